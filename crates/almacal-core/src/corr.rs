//! Correlation (Stokes) type codes of the POLARIZATION table, as casacore's `Stokes` enum numbers them.

use serde::{Deserialize, Serialize};

/// A correlation product type (`CORR_TYPE` entries).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CorrType {
    I,
    Q,
    U,
    V,
    RR,
    RL,
    LR,
    LL,
    XX,
    XY,
    YX,
    YY,
    /// Any other casacore Stokes code, kept verbatim.
    Other(i32),
}

impl CorrType {
    /// From casacore's Stokes enum value.
    pub fn from_code(code: i32) -> Self {
        match code {
            1 => Self::I,
            2 => Self::Q,
            3 => Self::U,
            4 => Self::V,
            5 => Self::RR,
            6 => Self::RL,
            7 => Self::LR,
            8 => Self::LL,
            9 => Self::XX,
            10 => Self::XY,
            11 => Self::YX,
            12 => Self::YY,
            other => Self::Other(other),
        }
    }

    /// casacore's Stokes enum value.
    pub fn code(self) -> i32 {
        match self {
            Self::I => 1,
            Self::Q => 2,
            Self::U => 3,
            Self::V => 4,
            Self::RR => 5,
            Self::RL => 6,
            Self::LR => 7,
            Self::LL => 8,
            Self::XX => 9,
            Self::XY => 10,
            Self::YX => 11,
            Self::YY => 12,
            Self::Other(c) => c,
        }
    }

    /// The name CASA prints and accepts in `correlation=` selections.
    pub fn name(self) -> String {
        match self {
            Self::Other(c) => format!("Stokes{c}"),
            s => format!("{s:?}"),
        }
    }

    /// Parse a CASA correlation name (`XX`, `rr`, ...), case-insensitively.
    pub fn from_name(name: &str) -> Option<Self> {
        let up = name.trim().to_ascii_uppercase();
        (1..=12).map(Self::from_code).find(|c| c.name() == up)
    }

    /// True for parallel-hand products (XX, YY, RR, LL).
    pub fn is_parallel(self) -> bool {
        matches!(self, Self::XX | Self::YY | Self::RR | Self::LL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_names_parse() {
        for code in 1..=12 {
            let c = CorrType::from_code(code);
            assert_eq!(c.code(), code);
            assert_eq!(CorrType::from_name(&c.name()), Some(c));
        }
        assert_eq!(CorrType::from_name("xx"), Some(CorrType::XX));
        assert_eq!(CorrType::from_code(9).name(), "XX");
        assert_eq!(CorrType::from_name("ZZ"), None);
        assert!(CorrType::YY.is_parallel() && !CorrType::XY.is_parallel());
    }
}
