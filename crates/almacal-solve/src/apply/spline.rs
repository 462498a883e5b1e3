//! The cubic spline of casacore's `InterpolateArray1D` (method `spline`), which CASA's
//! `CTPatchedInterp::resampleInFreq` uses for `spline` frequency interpolation
//! (algorithms.md §7.2), reproduced including its quirk.
//!
//! casacore sets up a natural spline (second derivative zero at the first and last knot)
//! and solves the tridiagonal system for the interior second derivatives by forward
//! elimination and back-substitution, but the back-substitution stops before knot 1: the
//! second derivative at knot 1 keeps its forward-elimination value 6·r₁/(2(x₂−x₀)) instead
//! of that minus t₁·M₂. Every other knot gets the exact natural-spline value, so only the
//! intervals [x₀, x₁] and [x₁, x₂] differ from a natural spline. The knots are taken in the
//! caller's order (CASA passes the unflagged caltable channels in channel order), so for a
//! descending (LSB) grid the affected knot is the second-highest frequency.
//!
//! Measured with CASA 6.7 (`applycal` of a Tsys table with designed spectra,
//! `interp='linear,spline'`, USB and LSB grids, with and without flagged Tsys channels):
//! this rule reproduces every data channel to 2e-7 (float32); a true natural spline is
//! 1e-4 – 1e-2 off in those two intervals.

/// casacore's spline through (x, y), in the order given.
///
/// The precision is that of `InterpolateArray1D<Double, Float>`, which CASA instantiates:
/// the domain (x, in CASA's case frequencies in GHz) is double, the values float32. The
/// sample differences are float32 subtractions; the slope difference r and the second
/// derivatives are stored as float32 while everything else is double; the result is
/// rounded to float32. With these roundings the spline reproduces CASA's interpolated
/// Tsys spectra bit for bit (the Tsys weight research in
/// `fixtures/scenarios/research/tsys_weight_bits.md`).
#[derive(Debug, Clone)]
pub struct Spline {
    x: Vec<f64>,
    y: Vec<f32>,
    /// Second derivatives at the knots, as casacore computes (and rounds) them.
    m: Vec<f32>,
    ascending: bool,
}

impl Spline {
    /// `x` strictly monotone (ascending or descending), finite, same length as `y`, at
    /// least 2 points. With 2 points the spline is the straight line; with 3 it is the
    /// natural spline (knot 1 needs no back-substitution then).
    pub fn casacore(x: &[f64], y: &[f32]) -> Option<Self> {
        let n = x.len();
        if n < 2
            || y.len() != n
            || x.iter().any(|v| !v.is_finite())
            || y.iter().any(|v| !v.is_finite())
        {
            return None;
        }
        let ascending = x[1] > x[0];
        if x.windows(2).any(|w| {
            if ascending {
                w[1] <= w[0]
            } else {
                w[1] >= w[0]
            }
        }) {
            return None;
        }
        let mut m = vec![0.0f32; n];
        let mut t = vec![0.0f64; n];
        // Forward elimination: row i reads h_{i-1} M_{i-1} + 2(h_{i-1}+h_i) M_i + h_i M_{i+1}
        // = 6 r_i, with h signed (x[i+1] − x[i]), r_i the difference of the two slopes.
        let mut c = x[1] - x[0];
        for i in 1..n - 1 {
            let a = c;
            let b = 2.0 * (x[i + 1] - x[i - 1]);
            c = x[i + 1] - x[i];
            let r = ((1.0 / c) * f64::from(y[i + 1] - y[i])
                - (1.0 / a) * f64::from(y[i] - y[i - 1])) as f32;
            let delta = b - a * t[i - 1];
            t[i] = c / delta;
            m[i] = ((1.0 / delta) * (6.0 * f64::from(r) - a * f64::from(m[i - 1]))) as f32;
        }
        // Back-substitution for knots n−2 … 2 only (casacore's loop is `i > 1`).
        for i in (2..n - 1).rev() {
            m[i] = (f64::from(m[i]) - t[i] * f64::from(m[i + 1])) as f32;
        }
        Some(Self {
            x: x.to_vec(),
            y: y.to_vec(),
            m,
            ascending,
        })
    }

    /// The spline at `t`; outside the knots the value of the nearest end knot.
    pub fn eval(&self, t: f64) -> f32 {
        let n = self.x.len();
        let (lo, hi) = if self.ascending {
            (0, n - 1)
        } else {
            (n - 1, 0)
        };
        if t <= self.x[lo] {
            return self.y[lo];
        }
        if t >= self.x[hi] {
            return self.y[hi];
        }
        // Bracketing knots k, k+1 in the given order.
        let after = if self.ascending {
            self.x.partition_point(|&v| v <= t)
        } else {
            self.x.partition_point(|&v| v >= t)
        };
        let k = after.saturating_sub(1).min(n - 2);
        let dx = self.x[k + 1] - self.x[k];
        let a = (self.x[k + 1] - t) / dx;
        let b = 1.0 - a;
        let h = dx * dx / 6.0;
        (a * f64::from(self.y[k])
            + b * f64::from(self.y[k + 1])
            + h * (a * a * a - a) * f64::from(self.m[k])
            + h * (b * b * b - b) * f64::from(self.m[k + 1])) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::Spline;

    /// float32 results: within a few float32 roundings.
    fn close(a: f32, b: f64) -> bool {
        (f64::from(a) - b).abs() < 1e-6 * b.abs().max(1.0)
    }

    #[test]
    fn lines_are_reproduced_and_samples_interpolated() {
        let x: Vec<f64> = (0..8).map(f64::from).collect();
        let y: Vec<f32> = x.iter().map(|v| (3.0 * v - 1.0) as f32).collect();
        let s = Spline::casacore(&x, &y).unwrap();
        // A line has zero slope differences, so every M is 0, knot 1 included.
        for t in [0.3, 1.5, 2.5, 6.9] {
            assert!(close(s.eval(t), 3.0 * t - 1.0));
        }
        let y: Vec<f32> = x.iter().map(|v| (v * 0.4).sin() as f32).collect();
        let s = Spline::casacore(&x, &y).unwrap();
        for (xi, yi) in x.iter().zip(&y) {
            assert_eq!(s.eval(*xi), *yi);
        }
        // Held at the ends.
        assert_eq!(s.eval(-1.0), y[0]);
        assert_eq!(s.eval(9.0), y[7]);
        assert!(Spline::casacore(&[0.0, 0.0], &[1.0, 2.0]).is_none());
        assert!(Spline::casacore(&[0.0, 1.0, 0.5], &[1.0, 2.0, 3.0]).is_none());
        assert!(Spline::casacore(&[0.0], &[1.0]).is_none());
    }

    /// x = 0,1,2,3, y = 0,0,1,0 (all h = 1). The natural spline's M₀ = M₃ = 0 and
    ///   4M₁ + M₂ = 6·((y₂−y₁) − (y₁−y₀)) = 6,  M₁ + 4M₂ = 6·((y₃−y₂) − (y₂−y₁)) = −12
    /// → M₁ = 2.4, M₂ = −3.6. casacore's forward elimination gives t₁ = 1/4, M₁' = 6/4 = 1.5,
    /// then δ₂ = 4 − t₁ = 3.75, M₂ = (−12 − 1.5)/3.75 = −3.6 (exact, since M₃ = 0), and it
    /// never back-substitutes M₁ (which would give 1.5 − M₂/4 = 2.4): M₁ stays 1.5.
    /// At the middle of an interval (A = B = ½) the value is ½(y_k + y_{k+1}) − (M_k +
    /// M_{k+1})/16:
    ///   t = 0.5: −1.5/16 = −0.09375 (natural: −2.4/16 = −0.15)
    ///   t = 1.5: ½ − (1.5 − 3.6)/16 = 0.63125 (natural: ½ + 1.2/16 = 0.575)
    ///   t = 2.5: ½ + 3.6/16 = 0.725 (the natural value: M₁ is not used there).
    #[test]
    fn knot_one_keeps_its_forward_elimination_value() {
        let s = Spline::casacore(&[0.0, 1.0, 2.0, 3.0], &[0.0, 0.0, 1.0, 0.0]).unwrap();
        assert!(close(s.eval(0.5), -0.09375), "{}", s.eval(0.5));
        assert!(close(s.eval(1.5), 0.63125), "{}", s.eval(1.5));
        assert!(close(s.eval(2.5), 0.725), "{}", s.eval(2.5));
    }

    /// The same samples in descending order, x = 3,2,1,0, y = 0,1,0,0: knot 1 is now x = 2.
    /// Forward elimination with signed h = −1: t₁ = (−1)/(−4) = 1/4,
    /// M₁' = 6·((0−1)/(−1) − (1−0)/(−1))/(−4) = 12/(−4) = −3; δ₂ = −4 − (−1)(1/4) = −3.75,
    /// M₂ = (6·((0−0)/(−1) − (0−1)/(−1)) − (−1)(−3))/(−3.75) = (−6 − 3)/(−3.75) = 2.4 (the
    /// natural M at x = 1), and M₁ stays −3 (natural: −3.6 at x = 2). So
    ///   t = 0.5 (knots x = 1, 0): ½·0 − (2.4 + 0)/16 = −0.15 (natural),
    ///   t = 1.5 (knots x = 2, 1): ½ − (−3 + 2.4)/16 = 0.5375 (natural 0.575),
    ///   t = 2.5 (knots x = 3, 2): ½ − (0 − 3)/16 = 0.6875 (natural 0.725).
    #[test]
    fn descending_grids_use_channel_order() {
        let s = Spline::casacore(&[3.0, 2.0, 1.0, 0.0], &[0.0, 1.0, 0.0, 0.0]).unwrap();
        assert!(close(s.eval(0.5), -0.15), "{}", s.eval(0.5));
        assert!(close(s.eval(1.5), 0.5375), "{}", s.eval(1.5));
        assert!(close(s.eval(2.5), 0.6875), "{}", s.eval(2.5));
        assert_eq!(s.eval(-1.0), 0.0);
        assert_eq!(s.eval(4.0), 0.0);
        assert!(close(s.eval(2.0), 1.0));
    }

    /// With 3 knots casacore's result is the natural spline: x = 0,1,2, y = 0,1,0 →
    /// 4M₁ = 6·(−1 − 1) → M₁ = −3; at t = 0.5: ½ − (0 − 3)/16 = 0.6875. With 2 knots, the line.
    #[test]
    fn few_knots() {
        let s = Spline::casacore(&[0.0, 1.0, 2.0], &[0.0, 1.0, 0.0]).unwrap();
        assert!(close(s.eval(0.5), 0.6875));
        assert!(close(s.eval(1.5), 0.6875));
        let s = Spline::casacore(&[0.0, 2.0], &[1.0, 3.0]).unwrap();
        assert!(close(s.eval(0.5), 1.5));
    }
}
