#[test]
fn placeholder_errors() {}
