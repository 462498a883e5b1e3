//! Typed row ids of the MeasurementSet subtables, so an antenna index is never used as a spw id.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u32);

        impl $name {
            /// The id as a `usize` index into its subtable.
            pub fn idx(self) -> usize {
                self.0 as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

typed_id!(
    /// Row of the ANTENNA subtable (`ANTENNA1`/`ANTENNA2` in the main table).
    AntennaId
);
typed_id!(
    /// Row of the SPECTRAL_WINDOW subtable (ALMA science spws are e.g. 16, 18, 20, 22).
    SpwId
);
typed_id!(
    /// Row of the FIELD subtable (`FIELD_ID`).
    FieldId
);
typed_id!(
    /// Row of the DATA_DESCRIPTION subtable (`DATA_DESC_ID`); not the spw id in ALMA data.
    DataDescId
);
