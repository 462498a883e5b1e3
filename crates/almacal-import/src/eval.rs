//! Static evaluation of the expressions archive scripts use: literals, variables, string
//! concatenation and `%` formatting, lists, `str()`/`range()`, subscripts of known lists and
//! dicts, and `tsysspwmap(...)` (which stands for almacal's `spwmap = "auto"`). Anything
//! else evaluates to [`Value::Unknown`] with the reason.

use rustpython_parser::ast::{self, Constant, Expr, Operator, UnaryOp};
use std::collections::BTreeMap;

/// A statically known value (or why it is not known).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    None,
    List(Vec<Value>),
    Dict(Vec<(Value, Value)>),
    /// The result of almahelpers' `tsysspwmap(...)`: almacal computes it (`"auto"`).
    TsysMap,
    Unknown(String),
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_known(&self) -> bool {
        match self {
            Value::Unknown(_) => false,
            Value::List(v) => v.iter().all(Value::is_known),
            Value::Dict(v) => v.iter().all(|(k, x)| k.is_known() && x.is_known()),
            _ => true,
        }
    }

    /// Python's truth value, when known.
    pub fn truthy(&self) -> Option<bool> {
        Some(match self {
            Value::Str(s) => !s.is_empty(),
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Bool(b) => *b,
            Value::None => false,
            Value::List(v) => !v.is_empty(),
            Value::Dict(v) => !v.is_empty(),
            Value::TsysMap => true,
            Value::Unknown(_) => return None,
        })
    }

    /// Python's `str(x)` for the scalar values.
    fn to_py_str(&self) -> Option<String> {
        Some(match self {
            Value::Str(s) => s.clone(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => format!("{f}"),
            Value::Bool(b) => if *b { "True" } else { "False" }.to_string(),
            Value::None => "None".to_string(),
            _ => return None,
        })
    }
}

/// Variables bound so far, in script order.
#[derive(Debug, Default, Clone)]
pub struct Env {
    vars: BTreeMap<String, Value>,
}

impl Env {
    pub fn set(&mut self, name: &str, v: Value) {
        self.vars.insert(name.to_string(), v);
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.vars.get(name)
    }

    /// Evaluates `e` with the variables bound so far.
    pub fn eval(&self, e: &Expr) -> Value {
        match e {
            Expr::Constant(c) => constant(&c.value),
            Expr::Name(n) => match n.id.as_str() {
                "True" => Value::Bool(true),
                "False" => Value::Bool(false),
                "None" => Value::None,
                // CASA's shell defines T and F.
                "T" if !self.vars.contains_key("T") => Value::Bool(true),
                "F" if !self.vars.contains_key("F") => Value::Bool(false),
                id => self.vars.get(id).cloned().unwrap_or_else(|| {
                    Value::Unknown(format!("variable `{id}` is not known statically"))
                }),
            },
            Expr::List(l) => Value::List(l.elts.iter().map(|x| self.eval(x)).collect()),
            Expr::Tuple(t) => Value::List(t.elts.iter().map(|x| self.eval(x)).collect()),
            Expr::Dict(d) => {
                let mut out = Vec::new();
                for (k, v) in d.keys.iter().zip(&d.values) {
                    match k {
                        Some(k) => out.push((self.eval(k), self.eval(v))),
                        None => return Value::Unknown("dict unpacking".into()),
                    }
                }
                Value::Dict(out)
            }
            Expr::BinOp(b) => binop(b.op, self.eval(&b.left), self.eval(&b.right)),
            Expr::UnaryOp(u) => match (u.op, self.eval(&u.operand)) {
                (UnaryOp::USub, Value::Int(i)) => Value::Int(-i),
                (UnaryOp::USub, Value::Float(f)) => Value::Float(-f),
                (UnaryOp::UAdd, v @ (Value::Int(_) | Value::Float(_))) => v,
                (UnaryOp::Not, v) => v.truthy().map_or_else(
                    || Value::Unknown("`not` of an unknown value".into()),
                    |t| Value::Bool(!t),
                ),
                _ => Value::Unknown("unary operator".into()),
            },
            Expr::Subscript(s) => subscript(self.eval(&s.value), self.eval(&s.slice)),
            Expr::Call(c) => self.call(c),
            Expr::Compare(c) if c.ops.len() == 1 => {
                let (l, r) = (self.eval(&c.left), self.eval(&c.comparators[0]));
                if !l.is_known() || !r.is_known() {
                    return Value::Unknown("comparison of unknown values".into());
                }
                match c.ops[0] {
                    ast::CmpOp::Eq => Value::Bool(l == r),
                    ast::CmpOp::NotEq => Value::Bool(l != r),
                    ast::CmpOp::In => {
                        contains(&r, &l).map_or(Value::Unknown("`in`".into()), Value::Bool)
                    }
                    ast::CmpOp::NotIn => contains(&r, &l)
                        .map_or(Value::Unknown("`not in`".into()), |b| Value::Bool(!b)),
                    _ => Value::Unknown("ordering comparison".into()),
                }
            }
            _ => Value::Unknown("expression not evaluated statically".into()),
        }
    }

    fn call(&self, c: &ast::ExprCall) -> Value {
        let name = match c.func.as_ref() {
            Expr::Name(n) => n.id.as_str(),
            Expr::Attribute(a) => return self.method(&self.eval(&a.value), a.attr.as_str(), c),
            _ => return Value::Unknown("call result".into()),
        };
        let args: Vec<Value> = c.args.iter().map(|a| self.eval(a)).collect();
        match (name, args.as_slice()) {
            ("tsysspwmap", _) => Value::TsysMap,
            ("str", [v]) => v.to_py_str().map_or_else(
                || Value::Unknown("str() of an unknown value".into()),
                Value::Str,
            ),
            ("int", [Value::Int(i)]) => Value::Int(*i),
            ("int", [Value::Str(s)]) => s
                .trim()
                .parse()
                .map_or(Value::Unknown("int()".into()), Value::Int),
            ("float", [Value::Int(i)]) => Value::Float(*i as f64),
            ("float", [Value::Float(f)]) => Value::Float(*f),
            ("list", [Value::List(v)]) => Value::List(v.clone()),
            ("set", [Value::List(v)]) => {
                let mut out: Vec<Value> = Vec::new();
                for x in v {
                    if !out.contains(x) {
                        out.push(x.clone());
                    }
                }
                Value::List(out)
            }
            ("len", [Value::List(v)]) => Value::Int(v.len() as i64),
            ("len", [Value::Dict(v)]) => Value::Int(v.len() as i64),
            ("len", [Value::Str(s)]) => Value::Int(s.chars().count() as i64),
            ("range", [Value::Int(n)]) => range(0, *n),
            ("range", [Value::Int(a), Value::Int(b)]) => range(*a, *b),
            _ => Value::Unknown(format!("result of `{name}(...)`")),
        }
    }
}

impl Env {
    /// String methods on a known string: replace, split, strip, upper, lower, join.
    fn method(&self, base: &Value, name: &str, c: &ast::ExprCall) -> Value {
        let args: Vec<Value> = c.args.iter().map(|a| self.eval(a)).collect();
        let Value::Str(s) = base else {
            return Value::Unknown(format!("result of `.{name}(...)`"));
        };
        match (name, args.as_slice()) {
            ("replace", [Value::Str(a), Value::Str(b)]) => Value::Str(s.replace(a.as_str(), b)),
            ("split", [Value::Str(sep)]) if !sep.is_empty() => Value::List(
                s.split(sep.as_str())
                    .map(|x| Value::Str(x.to_string()))
                    .collect(),
            ),
            ("split", []) => Value::List(
                s.split_whitespace()
                    .map(|x| Value::Str(x.to_string()))
                    .collect(),
            ),
            ("strip", []) => Value::Str(s.trim().to_string()),
            ("upper", []) => Value::Str(s.to_uppercase()),
            ("lower", []) => Value::Str(s.to_lowercase()),
            ("join", [Value::List(l)]) => {
                let parts: Option<Vec<&str>> = l.iter().map(Value::as_str).collect();
                parts.map_or(Value::Unknown("join of non-strings".into()), |p| {
                    Value::Str(p.join(s))
                })
            }
            _ => Value::Unknown(format!("result of `.{name}(...)`")),
        }
    }
}

fn range(a: i64, b: i64) -> Value {
    if b - a > 100_000 {
        return Value::Unknown("range too long".into());
    }
    Value::List((a..b).map(Value::Int).collect())
}

fn constant(c: &Constant) -> Value {
    match c {
        Constant::Str(s) => Value::Str(s.clone()),
        Constant::Int(i) => i
            .to_string()
            .parse()
            .map_or(Value::Unknown("big integer".into()), Value::Int),
        Constant::Float(f) => Value::Float(*f),
        Constant::Bool(b) => Value::Bool(*b),
        Constant::None => Value::None,
        Constant::Tuple(t) => Value::List(t.iter().map(constant).collect()),
        _ => Value::Unknown("constant".into()),
    }
}

fn binop(op: Operator, l: Value, r: Value) -> Value {
    use Value::*;
    match (op, l, r) {
        (Operator::Add, Str(a), Str(b)) => Str(a + &b),
        (Operator::Add, List(mut a), List(b)) => {
            a.extend(b);
            List(a)
        }
        (Operator::Add, Int(a), Int(b)) => Int(a + b),
        (Operator::Sub, Int(a), Int(b)) => Int(a - b),
        (Operator::Mult, Int(a), Int(b)) => Int(a * b),
        (
            Operator::Add | Operator::Sub | Operator::Mult | Operator::Div,
            a @ (Int(_) | Float(_)),
            b @ (Int(_) | Float(_)),
        ) => {
            let (x, y) = (num(&a), num(&b));
            Float(match op {
                Operator::Add => x + y,
                Operator::Sub => x - y,
                Operator::Mult => x * y,
                _ => x / y,
            })
        }
        (Operator::Mult, List(a), Int(n)) if (0..=10_000).contains(&n) => {
            List((0..n).flat_map(|_| a.clone()).collect())
        }
        (Operator::Mod, Str(f), args) => {
            format_percent(&f, &args).map_or(Unknown("% formatting".into()), Str)
        }
        _ => Unknown("operator on unknown values".into()),
    }
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        _ => f64::NAN,
    }
}

/// `'%s.ms' % name` with `%s`, `%d`, `%i` and `%%`.
fn format_percent(fmt: &str, args: &Value) -> Option<String> {
    let args: Vec<Value> = match args {
        Value::List(v) => v.clone(),
        v => vec![v.clone()],
    };
    let mut it = args.iter();
    let mut out = String::new();
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            '%' => out.push('%'),
            's' | 'd' | 'i' => out.push_str(&it.next()?.to_py_str()?),
            _ => return None,
        }
    }
    it.next().is_none().then_some(out)
}

fn subscript(v: Value, i: Value) -> Value {
    match (v, i) {
        (Value::List(l), Value::Int(k)) => {
            let idx = if k < 0 { l.len() as i64 + k } else { k };
            usize::try_from(idx)
                .ok()
                .and_then(|u| l.get(u).cloned())
                .unwrap_or(Value::Unknown("index out of range".into()))
        }
        (Value::Dict(d), k) if k.is_known() => d
            .into_iter()
            .find(|(x, _)| *x == k)
            .map_or(Value::Unknown("missing key".into()), |(_, v)| v),
        _ => Value::Unknown("subscript of an unknown value".into()),
    }
}

fn contains(container: &Value, x: &Value) -> Option<bool> {
    match (container, x) {
        (Value::List(l), x) => Some(l.contains(x)),
        (Value::Str(s), Value::Str(x)) => Some(s.contains(x.as_str())),
        (Value::Dict(d), x) => Some(d.iter().any(|(k, _)| k == x)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustpython_parser::{ast, Parse};

    fn run(src: &str) -> Env {
        let mut env = Env::default();
        for s in ast::Suite::parse(src, "<t>").expect("parses") {
            if let ast::Stmt::Assign(a) = s {
                if let Expr::Name(n) = &a.targets[0] {
                    let v = env.eval(&a.value);
                    env.set(&n.id, v);
                }
            }
        }
        env
    }

    #[test]
    fn concatenation_and_formatting() {
        let env = run("ms = 'uid___A002_X1'\nvis = ms + '.ms'\nt = vis + '.split.' + 'cal'\np = '%s.ms.%s' % ('a', 3)\n");
        assert_eq!(env.get("vis"), Some(&Value::Str("uid___A002_X1.ms".into())));
        assert_eq!(
            env.get("t"),
            Some(&Value::Str("uid___A002_X1.ms.split.cal".into()))
        );
        assert_eq!(env.get("p"), Some(&Value::Str("a.ms.3".into())));
    }

    #[test]
    fn lists_dicts_and_helpers() {
        let env = run("a = ['x', 'y'] + ['z']\nd = {0: 'Tsys', 1: 'WVR'}\nt = d[1]\nm = tsysspwmap(vis='a.ms', tsystable='a.ms.tsys')\nn = len(a)\nr = range(0, len(d))\ns = str(n) + 'x'\nf = -0.5\n");
        assert_eq!(
            env.get("a"),
            Some(&Value::List(vec![
                Value::Str("x".into()),
                Value::Str("y".into()),
                Value::Str("z".into())
            ]))
        );
        assert_eq!(env.get("t"), Some(&Value::Str("WVR".into())));
        assert_eq!(env.get("m"), Some(&Value::TsysMap));
        assert_eq!(env.get("n"), Some(&Value::Int(3)));
        assert_eq!(
            env.get("r"),
            Some(&Value::List(vec![Value::Int(0), Value::Int(1)]))
        );
        assert_eq!(env.get("s"), Some(&Value::Str("3x".into())));
        assert_eq!(env.get("f"), Some(&Value::Float(-0.5)));
        let env = run("p = 'J1;J2'\nf = p.replace(';', '*;').split(';')[0]\nj = ','.join(['a', 'b'])\nt = T\n");
        assert_eq!(env.get("f"), Some(&Value::Str("J1*".into())));
        assert_eq!(env.get("j"), Some(&Value::Str("a,b".into())));
        assert_eq!(env.get("t"), Some(&Value::Bool(true)));
    }

    #[test]
    fn unknowns_stay_unknown() {
        let env = run("x = foo + '.ms'\ny = es.getSpws()\nz = 1 < 2\n");
        assert!(matches!(env.get("x"), Some(Value::Unknown(_))));
        assert!(matches!(env.get("y"), Some(Value::Unknown(_))));
        assert!(matches!(env.get("z"), Some(Value::Unknown(_))));
    }

    #[test]
    fn comparisons() {
        let env = run("applyonly = False\nc = applyonly != True\nsteps = [1, 2]\nk = 2 in steps\nq = 5 in steps\n");
        assert_eq!(env.get("c"), Some(&Value::Bool(true)));
        assert_eq!(env.get("k"), Some(&Value::Bool(true)));
        assert_eq!(env.get("q"), Some(&Value::Bool(false)));
    }
}
