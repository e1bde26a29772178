//! Sharing a factor: fewer multiplications.

use super::{is_constant, Rule};
use egg::rewrite as rw;

pub fn rules() -> Vec<Rule> {
    vec![
        // a*b + a*c = a*(b + c)
        rw!("factor-left"; "(+ (* ?a ?b) (* ?a ?c))" => "(* ?a (+ ?b ?c))"),
        // a*c + a = a*(c + 1)
        rw!("factor-one"; "(+ (* ?a ?c) ?a)" => "(* ?a (+ ?c 1))"),
        // (a * c1) * c2 = a * (c1 * c2)
        rw!("mul-mul-constants"; "(* (* ?a ?c1) ?c2)" => "(* ?a (* ?c1 ?c2))"
            if is_constant("?c1") if is_constant("?c2")),
        // c * a = a * c (constants to the right)
        rw!("mul-constant-right"; "(* ?c ?a)" => "(* ?a ?c)" if is_constant("?c")),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::check;

    #[test]
    fn factors() {
        let mut rules = super::rules();
        rules.extend(super::super::identities::rules());
        check(&rules, "(+ (* i n) (* i 2))", "(* i (+ n 2))");
        check(&rules, "(+ (* i 3) i)", "(* i 4)");
        check(&rules, "(* (* i 4) 8)", "(* i 32)");
        check(&rules, "(* 2 (* i 3))", "(* i 6)");
    }
}
