//! The importer on small synthetic scripts with known answers: step titles, applyonly
//! blocks, `rm -rf`, tsysspwmap, merging, loops, the fluxscale-log setjy loop, and the
//! accounting of calls that do not run statically.

use almacal_import::eval::Value;

const SCRIPT: &str = r#"# Using reference antenna = DA41
thesteps = []
step_title = {0: 'Tsys', 1: 'Apply', 2: 'Gains'}
if 'applyonly' not in globals(): applyonly = False
try:
  print 'List of steps to be executed ...', mysteps
  thesteps = mysteps
except:
  print 'global variable mysteps not set.'
if (thesteps==[]):
  thesteps = range(0,len(step_title))
ms = 'uid___A002_X1_X2'
mystep = 0
if(mystep in thesteps):
  print 'Step ', mystep, step_title[mystep]
  from recipes.almahelpers import fixsyscaltimes
  fixsyscaltimes(vis = ms + '.ms')
  os.system('rm -rf ' + ms + '.ms.tsys')
  gencal(vis = ms + '.ms', caltable = ms + '.ms.tsys', caltype = 'tsys')
  flagdata(vis = ms + '.ms.tsys', mode = 'manual', spw = '17:0~3', flagbackup = False)
  if applyonly != True: es.checkCalTable(ms + '.ms.tsys', msName = ms + '.ms', interactive = False)
  if applyonly != True: es.fixForCSV2555(ms + '.ms')
mystep = 1
if(mystep in thesteps):
  print 'Step ', mystep, step_title[mystep]
  tsysmap = tsysspwmap(vis = ms + '.ms', tsystable = ms + '.ms.tsys')
  for f in ['0', '1']:
    applycal(vis = ms + '.ms', field = f, gaintable = [ms + '.ms.tsys'], gainfield = [f], spwmap = [tsysmap], calwt = True, flagbackup = False)
  split(vis = ms + '.ms', outputvis = ms + '.ms.split', datacolumn = 'corrected', keepflags = True)
mystep = 2
if(mystep in thesteps):
  print 'Step ', mystep, step_title[mystep]
  fluxscaleDict = fluxscale(vis = ms + '.ms.split', caltable = './amp', fluxtable = ms + '.ms.split.flux_inf', reference = '0')
  fc = open('x').readlines()
  for i in range(len(fc)):
    spwId = fc[i].split()[0]
    setjy(vis = ms + '.ms.split', field = 'J1', spw = spwId, standard = 'manual', fluxdensity = [float(fc[i]), 0, 0, 0])
  if applyonly == True:
    listobs(vis = ms + '.ms.split')
def later():
  gaincal(vis = 'x.ms', caltable = 'x.g')
"#;

fn import() -> almacal_import::Import {
    almacal_import::import_str(SCRIPT, "synthetic.py").expect("imports")
}

#[test]
fn accounting() {
    let imp = import();
    // gencal, flagdata, fixForCSV2555, applycal, split, fluxscale, setjy, listobs, gaincal.
    assert_eq!(imp.task_calls, 9);
    assert_eq!(imp.translated, 6);
    let lines: Vec<(usize, &str)> = imp
        .unsupported
        .iter()
        .map(|u| (u.line, u.call.as_str()))
        .collect();
    assert_eq!(
        lines,
        vec![(22, "es.fixForCSV2555"), (39, "listobs"), (41, "gaincal")]
    );
    assert!(
        imp.unsupported[1].reason.contains("statically false"),
        "{}",
        imp.unsupported[1].reason
    );
    assert!(
        imp.unsupported[2].reason.contains("function"),
        "{}",
        imp.unsupported[2].reason
    );
    assert_eq!(imp.dropped_rm, 1);
    assert_eq!(imp.refant.as_deref(), Some("DA41"));
}

#[test]
fn stages() {
    let imp = import();
    let names: Vec<&str> = imp.stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        vec!["tsys", "tsys_flags", "split", "flux_inf", "setjy"]
    );
    let tsys = &imp.stages[0];
    assert_eq!(
        tsys.params,
        vec![
            ("vis".into(), Value::Str("raw".into())),
            ("caltype".into(), Value::Str("tsys".into())),
            ("fixsyscaltimes".into(), Value::Bool(true))
        ]
    );
    assert_eq!(tsys.plots, vec!["tsys".to_string()]);
    assert!(
        tsys.comments[0].contains("script line 19 (step 0: Tsys)"),
        "{:?}",
        tsys.comments
    );
    // Two applycal calls from the loop are two groups; the split became the output.
    let apply = &imp.stages[2];
    assert_eq!(apply.task, "applycal");
    assert_eq!(apply.groups.len(), 2);
    assert_eq!(apply.groups[1][0], ("field".into(), Value::Str("1".into())));
    assert_eq!(
        apply.groups[0][1],
        (
            "gaintable".into(),
            Value::List(vec![Value::Str("tsys_flags".into())])
        )
    );
    assert_eq!(
        apply.groups[0][3],
        (
            "spwmap".into(),
            Value::List(vec![Value::Str("auto".into())])
        )
    );
    assert_eq!(
        apply.output[0],
        (
            "split".into(),
            Value::Str("uid___A002_X1_X2.ms.split".into())
        )
    );
    let setjy = &imp.stages[4];
    assert!(setjy
        .params
        .contains(&("fluxscale".into(), Value::Str("flux_inf".into()))));
}

#[test]
fn recipe_text_loads() {
    let imp = import();
    let toml = almacal_import::emit::recipe_toml(&imp);
    assert!(toml.contains("[defaults]\nrefant = \"DA41\""));
    assert!(toml.contains("# UNSUPPORTED (script line 22, step 0): es.fixForCSV2555"));
    assert!(
        toml.contains("#     if applyonly != True: es.fixForCSV2555(ms + '.ms')"),
        "{toml}"
    );
    let opts = almacal_recipe::LoadOptions {
        allow_test_tasks: false,
        skip_input_checks: true,
    };
    if let Err(e) =
        almacal_recipe::load_str(std::path::Path::new("synthetic.toml"), toml.clone(), &opts)
    {
        let msgs: Vec<String> =
            e.0.iter()
                .map(|d| format!("{}: {}", d.pos.line, d.message))
                .collect();
        panic!("{}\n{toml}", msgs.join("\n"));
    }
}
