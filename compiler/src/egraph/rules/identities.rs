//! Identities of addition, subtraction, multiplication, division.

use super::Rule;
use egg::rewrite as rw;

pub fn rules() -> Vec<Rule> {
    vec![
        // a + 0 = a
        rw!("add-zero"; "(+ ?a 0)" => "?a"),
        // 0 + a = a
        rw!("zero-add"; "(+ 0 ?a)" => "?a"),
        // a - 0 = a
        rw!("sub-zero"; "(- ?a 0)" => "?a"),
        // a - a = 0
        rw!("sub-self"; "(- ?a ?a)" => "0"),
        // a * 1 = a
        rw!("mul-one"; "(* ?a 1)" => "?a"),
        // 1 * a = a
        rw!("one-mul"; "(* 1 ?a)" => "?a"),
        // a * 0 = 0
        rw!("mul-zero"; "(* ?a 0)" => "0"),
        // 0 * a = 0
        rw!("zero-mul"; "(* 0 ?a)" => "0"),
        // a / 1 = a
        rw!("div-one"; "(/ ?a 1)" => "?a"),
        // a % 1 = 0
        rw!("rem-one"; "(% ?a 1)" => "0"),
        // min(a, a) = a
        rw!("min-self"; "(min ?a ?a)" => "?a"),
        // max(a, a) = a
        rw!("max-self"; "(max ?a ?a)" => "?a"),
        // a << 0 = a
        rw!("shl-zero"; "(<< ?a 0)" => "?a"),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::check;

    #[test]
    fn identities() {
        let rules = super::rules();
        check(&rules, "(+ x 0)", "x");
        check(&rules, "(* (+ 0 y) 1)", "y");
        check(&rules, "(- (* x 0) 0)", "0");
        check(&rules, "(/ (- x x) 1)", "0");
        check(&rules, "(min (% x 1) 0)", "0");
        check(&rules, "(+ 2 3)", "5");
    }
}
