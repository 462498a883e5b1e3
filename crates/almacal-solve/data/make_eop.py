"""Extract daily Earth-orientation parameters (UT1-UTC, polar motion x, y) from the IERS
table shipped with CASA's `casadata` package (IERSeop2000) into data/eop.txt, which almacal
embeds: casacore applies these when it converts antenna-position offsets to J2000, so
almacal needs the same numbers to reproduce CASA's KAntPos phases without network access.

Run: .venv-casa/bin/python crates/almacal-solve/data/make_eop.py
"""
import os
import casadata
import casacore.tables as pt

D = os.path.join(os.path.dirname(casadata.__file__), '__data__', 'geodetic', 'IERSeop2000')
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'eop.txt')
FIRST_MJD = 55197  # 2010-01-01: ALMA data start after this

t = pt.table(D, ack=False)
mjd, dut1, x, y = (t.getcol(c) for c in ('MJD', 'dUT1', 'x', 'y'))
with open(OUT, 'w') as fh:
    fh.write('# MJD UT1-UTC(s) x(arcsec) y(arcsec), from casadata %s IERSeop2000\n'
             % getattr(casadata, '__version__', '?'))
    for m, d, xx, yy in zip(mjd, dut1, x, y):
        if m >= FIRST_MJD:
            fh.write('%d %.7f %.6f %.6f\n' % (m, d, xx, yy))
print('wrote', OUT)
