#[test]
fn placeholder_run() {}
