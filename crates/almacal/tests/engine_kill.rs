#[test]
fn placeholder_kill() {}
