//! Whether two affine accesses in a loop of `trips` iterations touch the
//! same element in two different iterations.
//!
//! Access one uses, in dimension d, `a_d * t + c_d` in iteration `t`; access
//! two uses `b_d * t' + e_d` in iteration `t'` (loop-invariant terms equal
//! on both sides). They meet where every `a_d * t - b_d * t' = k_d` (with
//! `k_d = e_d - c_d`), a system of linear Diophantine equations in two
//! unknowns, solved exactly for `t != t'` in `[0, trips)`.

/// `a * t - b * t' = k`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Equation {
    pub a: i64,
    pub b: i64,
    pub k: i64,
}

/// Two different iterations `(t, t')` in which the accesses meet, if any.
pub fn meeting_iterations(equations: &[Equation], trips: i64) -> Option<(i64, i64)> {
    if trips < 2 {
        return None;
    }
    let wide = |e: &Equation| (i128::from(e.a), i128::from(e.b), i128::from(e.k));
    let mut rows = Vec::new();
    for (a, b, k) in equations.iter().map(wide) {
        if a == 0 && b == 0 {
            if k != 0 {
                return None; // different elements in every pair of iterations
            }
        } else {
            rows.push((a, b, k));
        }
    }
    let trips = i128::from(trips);
    let fits = |t: i128, u: i128| {
        (0..trips).contains(&t)
            && (0..trips).contains(&u)
            && t != u
            && rows.iter().all(|&(a, b, k)| a * t - b * u == k)
    };
    let narrow = |(t, u): (i128, i128)| Some((i64::try_from(t).ok()?, i64::try_from(u).ok()?));
    let Some(&(a1, b1, k1)) = rows.first() else {
        return Some((0, 1)); // the same element in every iteration
    };
    // Two independent equations fix (t, t'): Cramer's rule.
    for &(a, b, k) in &rows[1..] {
        let determinant = b1 * a - a1 * b;
        if determinant != 0 {
            let t = b1 * k - k1 * b;
            let u = a1 * k - a * k1;
            if t % determinant != 0 || u % determinant != 0 {
                return None;
            }
            let solution = (t / determinant, u / determinant);
            return fits(solution.0, solution.1)
                .then_some(solution)
                .and_then(narrow);
        }
    }
    // Every equation is a multiple of the first (fits checks consistency).
    let candidates: Vec<(i128, i128)> = if b1 == 0 {
        let t = k1 / a1;
        vec![(t, 0), (t, 1)]
    } else if a1 == 0 {
        let u = -k1 / b1;
        vec![(0, u), (1, u)]
    } else {
        line_points(a1, b1, k1, trips)
    };
    candidates
        .into_iter()
        .find(|&(t, u)| fits(t, u))
        .and_then(narrow)
}

/// Up to three solutions of `a t - b u = k` (a, b not 0) with t and u in
/// `[0, trips)`, taken in order along the line: at most one of them has
/// t == u unless all do.
fn line_points(a: i128, b: i128, k: i128, trips: i128) -> Vec<(i128, i128)> {
    let (g, x, y) = extended_gcd(a, -b);
    if k % g != 0 {
        return Vec::new();
    }
    // a (x k/g) + (-b)(y k/g) = k; the line is that point plus s (b/g, a/g).
    let (t0, u0) = (x * (k / g), y * (k / g));
    let (dt, du) = (b / g, a / g);
    // s with 0 <= t0 + s dt < trips and the same for u.
    let range = |start: i128, step: i128| {
        let low = ceil_div(-start, step);
        let high = floor_div(trips - 1 - start, step);
        if step > 0 {
            (low, high)
        } else {
            (ceil_div(trips - 1 - start, step), floor_div(-start, step))
        }
    };
    let (t_low, t_high) = range(t0, dt);
    let (u_low, u_high) = range(u0, du);
    let (low, high) = (t_low.max(u_low), t_high.min(u_high));
    (low..=high.min(low + 2))
        .map(|s| (t0 + s * dt, u0 + s * du))
        .collect()
}

/// (g, x, y) with a x + b y = g = gcd(a, b) > 0.
fn extended_gcd(a: i128, b: i128) -> (i128, i128, i128) {
    let (mut old_r, mut r) = (a, b);
    let (mut old_x, mut x) = (1, 0);
    let (mut old_y, mut y) = (0, 1);
    while r != 0 {
        let q = old_r / r;
        (old_r, r) = (r, old_r - q * r);
        (old_x, x) = (x, old_x - q * x);
        (old_y, y) = (y, old_y - q * y);
    }
    if old_r < 0 {
        (-old_r, -old_x, -old_y)
    } else {
        (old_r, old_x, old_y)
    }
}

fn floor_div(a: i128, b: i128) -> i128 {
    let q = a / b;
    if a % b != 0 && ((a < 0) != (b < 0)) {
        q - 1
    } else {
        q
    }
}

fn ceil_div(a: i128, b: i128) -> i128 {
    -floor_div(-a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eq(a: i64, b: i64, k: i64) -> Equation {
        Equation { a, b, k }
    }

    /// The same answer by trying every pair of iterations.
    fn brute(equations: &[Equation], trips: i64) -> bool {
        (0..trips).any(|t| {
            (0..trips).any(|u| t != u && equations.iter().all(|e| e.a * t - e.b * u == e.k))
        })
    }

    #[test]
    fn reversal_doubling_and_shifts() {
        // x[i] = x[N - 1 - i]: t = N - 1 - t'.
        assert!(meeting_iterations(&[eq(1, -1, 9)], 10).is_some());
        // ... over the first half only: never.
        assert_eq!(meeting_iterations(&[eq(1, -1, 9)], 5), None);
        // x[2 i] = x[i] + 1: 2 t = t'.
        assert_eq!(meeting_iterations(&[eq(2, 1, 0)], 4), Some((1, 2)));
        // x[i] = x[0]: iteration 0 writes what every other reads.
        assert_eq!(meeting_iterations(&[eq(1, 0, 0)], 3), Some((0, 1)));
        // x[2i] against x[2i + 1]: never the same element.
        assert_eq!(meeting_iterations(&[eq(2, 2, 1)], 100), None);
        // x[i, i] against x[i + 1, i]: the two dimensions disagree.
        assert_eq!(meeting_iterations(&[eq(1, 1, 1), eq(1, 1, 0)], 100), None);
        // x[i, 0] against x[0, i]: only t = t' = 0.
        assert_eq!(meeting_iterations(&[eq(1, 0, 0), eq(0, 1, 0)], 100), None);
        assert_eq!(meeting_iterations(&[eq(1, 1, 1)], 1), None);
    }

    #[test]
    fn agrees_with_trying_every_pair() {
        let values = [-3, -2, -1, 0, 1, 2, 3];
        for trips in [2, 3, 7] {
            for &a in &values {
                for &b in &values {
                    for k in -8..=8 {
                        let one = [eq(a, b, k)];
                        let found = meeting_iterations(&one, trips);
                        assert_eq!(
                            found.is_some(),
                            brute(&one, trips),
                            "{a} t - {b} u = {k}, {trips}"
                        );
                        if let Some((t, u)) = found {
                            assert!(t != u && a * t - b * u == k);
                        }
                        for &(a2, b2, k2) in
                            &[(1, 1, 0), (2, 1, 3), (a, b, k), (2 * a, 2 * b, 2 * k)]
                        {
                            let two = [eq(a, b, k), eq(a2, b2, k2)];
                            assert_eq!(
                                meeting_iterations(&two, trips).is_some(),
                                brute(&two, trips),
                                "{two:?}, {trips}"
                            );
                        }
                    }
                }
            }
        }
    }
}
