//! Moving constants together so that they fold, and cancelling terms. Only
//! constants move: no rule reorders two unknowns.

use super::{is_constant, Rule};
use egg::rewrite as rw;

pub fn rules() -> Vec<Rule> {
    vec![
        // (a + c1) + c2 = a + (c1 + c2)
        rw!("add-add-constants"; "(+ (+ ?a ?c1) ?c2)" => "(+ ?a (+ ?c1 ?c2))"
            if is_constant("?c1") if is_constant("?c2")),
        // (a + c1) - c2 = a + (c1 - c2)
        rw!("add-sub-constants"; "(- (+ ?a ?c1) ?c2)" => "(+ ?a (- ?c1 ?c2))"
            if is_constant("?c1") if is_constant("?c2")),
        // (a - c1) + c2 = a + (c2 - c1)
        rw!("sub-add-constants"; "(+ (- ?a ?c1) ?c2)" => "(+ ?a (- ?c2 ?c1))"
            if is_constant("?c1") if is_constant("?c2")),
        // (a - c1) - c2 = a - (c1 + c2)
        rw!("sub-sub-constants"; "(- (- ?a ?c1) ?c2)" => "(- ?a (+ ?c1 ?c2))"
            if is_constant("?c1") if is_constant("?c2")),
        // c + a = a + c (constants to the right, where the rules above look)
        rw!("constant-right"; "(+ ?c ?a)" => "(+ ?a ?c)" if is_constant("?c")),
        // (a + b) - b = a
        rw!("add-sub-cancel"; "(- (+ ?a ?b) ?b)" => "?a"),
        // (a + b) - a = b
        rw!("add-sub-cancel-left"; "(- (+ ?a ?b) ?a)" => "?b"),
        // (a - b) + b = a
        rw!("sub-add-cancel"; "(+ (- ?a ?b) ?b)" => "?a"),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::check;

    #[test]
    fn constants_fold_through_unknowns() {
        let rules = super::rules();
        check(&rules, "(+ (+ i 1) 2)", "(+ i 3)");
        check(&rules, "(- (+ i 5) 2)", "(+ i 3)");
        check(&rules, "(+ (- i 1) 1)", "i");
        check(&rules, "(- (- i 1) 2)", "(- i 3)");
        check(&rules, "(+ 4 (+ j 1))", "(+ j 5)");
        check(&rules, "(- (+ i j) j)", "i");
        check(&rules, "(- (+ i j) i)", "j");
    }
}
