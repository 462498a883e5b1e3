"""Time CASA 6.7's applycal (tsys + antpos, per field, as the refdata chain) + mstransform
(science spws, reindex=False) on a copy of MS, with almacal's initial flags reproduced by
CASA's flagdata first (not timed). Uses almacal's tsys/antpos caltables (CASA opens them),
so both sides apply identical tables. Prints the timed seconds on the last line.

Usage: .venv-casa/bin/python casa_prep_timing.py MS TSYS ANTPOS RUN_JSON
(RUN_JSON: almacal's run.json, for the tsysspwmap almacal used.)
"""
import json, os, shutil, sys, tempfile, time

ms, tsys, antpos = [os.path.abspath(a) for a in sys.argv[1:4]]
run = json.load(open(sys.argv[4]))
TSYSMAP = [s for s in run['stages'] if s['name'] == 'prep'][0]['summary']['tables'][0]['spwmap']
work = tempfile.mkdtemp(prefix='almacal_casa_bench_', dir=os.path.dirname(ms))
os.chdir(work)
from casatasks import flagdata, flagcmd, applycal, mstransform

SCI = '16,18,20,22'
vis = os.path.join(work, 'raw.ms')
shutil.copytree(ms, vis)
flagdata(vis=vis, mode='manual', spw=SCI, autocorr=True, flagbackup=False)
flagdata(vis=vis, mode='manual', intent='*POINTING*,*ATMOSPHERE*', flagbackup=False)
flagcmd(vis=vis, inpmode='table', useapplied=True, action='apply', flagbackup=False)
os.system('sync')
t0 = time.time()
for f in ('0', '1', '2'):
    applycal(vis=vis, field=f, spw=SCI, gaintable=[tsys, antpos], gainfield=[f, ''],
             interp=['linear,spline', ''], spwmap=[TSYSMAP, []], calwt=True, flagbackup=False)
t1 = time.time()
mstransform(vis=vis, outputvis=os.path.join(work, 'split.ms'), spw=SCI, datacolumn='corrected',
            reindex=False, keepflags=True)
t2 = time.time()
print('applycal %.2f s, mstransform %.2f s' % (t1 - t0, t2 - t1))
os.chdir('/')
shutil.rmtree(work, ignore_errors=True)
print('%.3f' % (t2 - t0))
