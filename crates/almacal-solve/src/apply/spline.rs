//! Natural cubic spline through (x, y) samples, for applycal's `spline` frequency
//! interpolation of Tsys spectra. Outside the samples the end values are held.

/// A natural cubic spline (second derivative zero at both ends).
#[derive(Debug, Clone)]
pub struct Spline {
    x: Vec<f64>,
    y: Vec<f64>,
    m: Vec<f64>,
}

impl Spline {
    /// `x` strictly ascending, same length as `y`, at least 2 points.
    pub fn new(x: &[f64], y: &[f64]) -> Option<Self> {
        let n = x.len();
        if n < 2 || y.len() != n || x.windows(2).any(|w| w[1] <= w[0]) {
            return None;
        }
        let mut m = vec![0.0; n];
        if n > 2 {
            // Tridiagonal system for the interior second derivatives (Thomas algorithm).
            let h: Vec<f64> = x.windows(2).map(|w| w[1] - w[0]).collect();
            let mut a = vec![0.0; n];
            let mut b = vec![0.0; n];
            let mut c = vec![0.0; n];
            let mut d = vec![0.0; n];
            for i in 1..n - 1 {
                a[i] = h[i - 1];
                b[i] = 2.0 * (h[i - 1] + h[i]);
                c[i] = h[i];
                d[i] = 6.0 * ((y[i + 1] - y[i]) / h[i] - (y[i] - y[i - 1]) / h[i - 1]);
            }
            for i in 2..n - 1 {
                let w = a[i] / b[i - 1];
                b[i] -= w * c[i - 1];
                d[i] -= w * d[i - 1];
            }
            m[n - 2] = d[n - 2] / b[n - 2];
            for i in (1..n - 2).rev() {
                m[i] = (d[i] - c[i] * m[i + 1]) / b[i];
            }
        }
        Some(Self {
            x: x.to_vec(),
            y: y.to_vec(),
            m,
        })
    }

    pub fn eval(&self, t: f64) -> f64 {
        let n = self.x.len();
        if t <= self.x[0] {
            return self.y[0];
        }
        if t >= self.x[n - 1] {
            return self.y[n - 1];
        }
        let k = self
            .x
            .partition_point(|&v| v <= t)
            .saturating_sub(1)
            .min(n - 2);
        let h = self.x[k + 1] - self.x[k];
        let a = (self.x[k + 1] - t) / h;
        let b = (t - self.x[k]) / h;
        a * self.y[k]
            + b * self.y[k + 1]
            + ((a * a * a - a) * self.m[k] + (b * b * b - b) * self.m[k + 1]) * h * h / 6.0
    }
}

#[cfg(test)]
mod tests {
    use super::Spline;

    #[test]
    fn reproduces_cubic_interior_and_lines_exactly() {
        // A straight line is reproduced exactly.
        let x: Vec<f64> = (0..8).map(f64::from).collect();
        let y: Vec<f64> = x.iter().map(|v| 3.0 * v - 1.0).collect();
        let s = Spline::new(&x, &y).unwrap();
        for t in [0.3, 2.5, 6.9] {
            assert!((s.eval(t) - (3.0 * t - 1.0)).abs() < 1e-12);
        }
        // Samples are interpolated exactly; a smooth curve closely in the middle.
        let y: Vec<f64> = x.iter().map(|v| (v * 0.4).sin()).collect();
        let s = Spline::new(&x, &y).unwrap();
        assert!((s.eval(3.0) - (1.2f64).sin()).abs() < 1e-12);
        assert!((s.eval(3.5) - (1.4f64).sin()).abs() < 1e-3);
        // Held at the ends.
        assert_eq!(s.eval(-1.0), y[0]);
        assert!(Spline::new(&[0.0, 0.0], &[1.0, 2.0]).is_none());
    }
}
