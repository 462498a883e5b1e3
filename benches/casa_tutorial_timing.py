"""Time CASA 6.7 running the steps of recipes/alma-manual-calibration-tutorial.toml on the same
MS (the refdata README's chain, with the recipe's parameters), one task call per CASA step:

  flagdata x2 + flagcmd (initial flags), gencal tsys, tsysspwmap (a port, below), gencal antpos,
  applycal x3 (tsys + antpos per field), mstransform (science spws, reindex=False),
  flagmanager save, flagdata shadow + edges, gaincal (pre-bandpass phase), bandpass, setjy,
  gaincal x3 (phase_int, phase_inf, ampli_inf), fluxscale, applycal x2, split.

CASA calibrates in place, so it works on a copy of the raw MS; the copy is timed but reported
separately (it is not a CASA step). flagbackup=False everywhere (CASA's default True would only
add time). CASA has no renormalisation here; almacal's recipe also runs renorm.

Usage: .venv-casa/bin/python casa_tutorial_timing.py MS ANTPOS_JSON WORKDIR OUT_JSON [ALMACAL_RUN_JSON]
Writes OUT_JSON {"steps_s": {...}, "total_s": ..., "copy_s": ..., "tsysspwmap": [...]} and
prints the total on the last line. ALMACAL_RUN_JSON (almacal's run.json): the tsysspwmap is
checked against almacal's.
"""
import json
import os
import shutil
import sys
import time

ms, antpos, workdir, out_json = [os.path.abspath(a) for a in sys.argv[1:5]]
almacal_run = os.path.abspath(sys.argv[5]) if len(sys.argv) > 5 else None
shutil.rmtree(workdir, ignore_errors=True)
os.makedirs(workdir)
os.chdir(workdir)  # casatasks writes casa-<date>.log into the current directory

from casatasks import (applycal, bandpass, flagcmd, flagdata, flagmanager, fluxscale, gaincal,
                       gencal, mstransform, setjy, split)
from casatools import table

SCI = '16,18,20,22'
REFANT = 'CM12'
NCHAN = 1024
EDGE = NCHAN // 16
EDGES = ','.join(f'{s}:0~{EDGE - 1};{NCHAN - EDGE}~{NCHAN - 1}' for s in SCI.split(','))
BP_SOLINT = f'inf,{round(20 * NCHAN / 128)}ch'


def tsysspwmap(vis, tsystable, chan_tol=1):
    """For every spw of `vis`, the Tsys spw to take the solutions from.

    Written from the description of casarecipes.almahelpers.tsysspwmap in the refdata README:
    a science spw goes to the first spw of the Tsys table on the same baseband (BBC_NO) whose
    frequency range, widened by `chan_tol` of its own channels, covers the science range. As in
    the original, the science range is edge +/- half of the *signed* first channel width (it
    shrinks for lower-sideband windows); the Tsys range uses the absolute width. Spws without
    a match map to themselves. The list covers every spw of the MS.
    """
    tb = table()
    tb.open(vis + '/SPECTRAL_WINDOW')
    nspw = tb.nrows()
    bbc = list(tb.getcol('BBC_NO'))
    chans = [(tb.getcell('CHAN_FREQ', i), tb.getcell('CHAN_WIDTH', i)) for i in range(nspw)]
    tb.close()
    tb.open(tsystable)
    tsys_spws = sorted(set(int(s) for s in tb.getcol('SPECTRAL_WINDOW_ID')))
    tb.close()
    tb.open(tsystable + '/SPECTRAL_WINDOW')
    tsys_chans = {s: (tb.getcell('CHAN_FREQ', s), tb.getcell('CHAN_WIDTH', s)) for s in tsys_spws}
    tb.close()
    out = []
    for i in range(nspw):
        f, w = chans[i]
        lo, hi = f.min() - 0.5 * w[0], f.max() + 0.5 * w[0]
        pick = i
        for s in tsys_spws:
            if bbc[s] != bbc[i]:
                continue
            tf, tw = tsys_chans[s]
            width = abs(tw[0])
            tol = chan_tol * width
            if lo >= tf.min() - 0.5 * width - tol and hi <= tf.max() + 0.5 * width + tol:
                pick = s
                break
        out.append(int(pick))
    return out


steps = {}
t_last = [time.time()]


def done(name):
    now = time.time()
    steps[name] = round(now - t_last[0], 3)
    print(f'  {name:<22} {steps[name]:8.2f} s', flush=True)
    t_last[0] = now


vis = os.path.join(workdir, 'raw.ms')
t0 = time.time()
shutil.copytree(ms, vis)
os.system('sync')
copy_s = time.time() - t0
print(f'  copy raw MS            {copy_s:8.2f} s (not counted)', flush=True)

stem = os.path.join(workdir, 'tutorial')
tsys, ant = stem + '.tsys', stem + '.antpos'
split_ms, cal_ms = stem + '.ms.split', stem + '.ms.split.cal'
bpphase, bpass = stem + '.bpphase.gcal', stem + '.bandpass.bcal'
ph_int, ph_inf = stem + '.phase_int.gcal', stem + '.phase_inf.gcal'
amp_inf, flux_inf = stem + '.ampli_inf.gcal', stem + '.flux_inf.fcal'

t_start = t_last[0] = time.time()
flagdata(vis=vis, mode='manual', spw=SCI, autocorr=True, flagbackup=False)
done('flag_autocorr')
flagdata(vis=vis, mode='manual', intent='*POINTING*,*ATMOSPHERE*', flagbackup=False)
done('flag_intents')
flagcmd(vis=vis, inpmode='table', useapplied=True, action='apply', flagbackup=False)
done('flagcmd_apply')
gencal(vis=vis, caltable=tsys, caltype='tsys')
done('gencal_tsys')
tsysmap = tsysspwmap(vis, tsys)
done('tsysspwmap')
gencal(vis=vis, caltable=ant, caltype='antpos', antenna='', infile=antpos)
done('gencal_antpos')
for f in ('0', '1', '2'):
    applycal(vis=vis, field=f, spw=SCI, gaintable=[tsys, ant], gainfield=[f, ''],
             interp=['linear,linear', ''], spwmap=[tsysmap, []], calwt=True, flagbackup=False)
done('applycal_tsys_antpos_x3')
mstransform(vis=vis, outputvis=split_ms, spw=SCI, datacolumn='corrected', reindex=False,
            keepflags=True)
done('mstransform')
flagmanager(vis=split_ms, mode='save', versionname='Original')
done('flagmanager_save')
flagdata(vis=split_ms, mode='shadow', flagbackup=False)
flagdata(vis=split_ms, mode='manual', spw=EDGES, flagbackup=False)
done('flag_shadow_edges')
gaincal(vis=split_ms, caltable=bpphase, field='0', intent='*BANDPASS*', solint='int',
        calmode='p', refant=REFANT)
done('gaincal_prebandpass')
bandpass(vis=split_ms, caltable=bpass, field='0', intent='*BANDPASS*', solint=BP_SOLINT,
         combine='scan', solnorm=True, bandtype='B', refant=REFANT, gaintable=[bpphase])
done('bandpass')
setjy(vis=split_ms, field='0', standard='manual', fluxdensity=[2.2942105694549557, 0, 0, 0],
      spix=-0.5846359878009907, reffreq='340.9333355239418GHz')
done('setjy')
gaincal(vis=split_ms, caltable=ph_int, field='0~1', solint='int', gaintype='G', calmode='p',
        refant=REFANT, gaintable=[bpass])
done('gaincal_phase_int')
gaincal(vis=split_ms, caltable=ph_inf, field='0~1', solint='inf', gaintype='G', calmode='p',
        refant=REFANT, gaintable=[bpass])
done('gaincal_phase_inf')
gaincal(vis=split_ms, caltable=amp_inf, field='0~1', solint='inf', gaintype='T', calmode='a',
        refant=REFANT, gaintable=[bpass, ph_int])
done('gaincal_ampli_inf')
flux = fluxscale(vis=split_ms, caltable=amp_inf, fluxtable=flux_inf, reference='0')
done('fluxscale')
applycal(vis=split_ms, field='0', gaintable=[bpass, ph_int, flux_inf], gainfield=['', '0', '0'],
         interp=['linear,linearflag', 'linear', 'linear'], calwt=True, flagbackup=False)
done('applycal_field0')
applycal(vis=split_ms, field='1,2', gaintable=[bpass, ph_inf, flux_inf],
         gainfield=['', '1', '1'], interp=['linear,linearflag', 'linear', 'linear'],
         calwt=True, flagbackup=False)
done('applycal_fields12')
split(vis=split_ms, outputvis=cal_ms, datacolumn='corrected')
done('split_final')
total = time.time() - t_start

note = ''
if almacal_run:
    run = json.load(open(almacal_run))
    prep = [s for s in run['stages'] if s['name'] == 'prep'][0]
    ours = prep.get('summary', {}).get('tables', [{}])[0].get('spwmap')
    note = 'tsysspwmap equals almacal\'s' if ours == tsysmap else f'tsysspwmap differs: CASA port {tsysmap} almacal {ours}'
    print(note)

fl = {}
try:
    f1 = flux['1']
    fl = {s: f1[s]['fluxd'][0] for s in f1 if isinstance(f1[s], dict) and f1[s].get('fluxd', [-1])[0] > 0}
except (KeyError, TypeError):
    pass
json.dump({'steps_s': steps, 'total_s': round(total, 3), 'copy_s': round(copy_s, 3),
           'tsysspwmap': tsysmap, 'tsysspwmap_check': note, 'fluxscale_field1': fl},
          open(out_json, 'w'), indent=1)
os.chdir('/')
for f in os.listdir(workdir):
    if f.startswith('casa-') and f.endswith('.log'):
        os.remove(os.path.join(workdir, f))
print(f'{total:.3f}')
