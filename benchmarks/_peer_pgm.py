"""Run private-pgm's MST or AIM on one prepared file (in its own virtualenv).

Called by ``bench_dp_quality.py`` as
``/work/pgm-venv/bin/python _peer_pgm.py MECH CODES DOMAIN EPS DELTA OUT``.
The mechanisms are imported from a local copy of the private-pgm repository
(``PGM_MECHANISMS``, default ``/tmp/pgm/mechanisms``; nothing of it is kept
here) and run against the ``mbi`` installed in the virtualenv, which must
match them: ``mbi==1.0.0`` with ``jax==0.7.0``, ``pandas<3`` and
``matplotlib`` (``PGM_SRC`` may point at the copy's ``src`` instead). The
tools ``mst-numpy`` and ``aim-numpy`` run the repository as it was before its
JAX rewrite instead, on numpy (see ``pgm_compat/README.md``). Prints one JSON
line: seconds, CPU seconds and peak memory.
"""

from __future__ import annotations

import itertools
import json
import os
import resource
import sys
import time

try:
    import jax
except ImportError:  # private-pgm before its JAX rewrite runs on numpy
    jax = None
else:
    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_enable_compilation_cache", False)

import pandas as pd

sys.path.insert(0, os.environ.get("PGM_MECHANISMS", "/tmp/pgm/mechanisms"))
if os.environ.get("PGM_SRC"):
    sys.path.insert(0, os.environ["PGM_SRC"])

from mbi import Dataset, Domain


def main() -> None:
    mech, codes, domain_path, eps, delta, out = sys.argv[1:7]
    frame = pd.read_csv(codes)
    with open(domain_path) as handle:
        sizes = json.load(handle)
    data = Dataset(frame, Domain(list(sizes), list(sizes.values())))
    start = time.perf_counter()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_start = usage.ru_utime + usage.ru_stime
    if mech == "mst":
        from mst import MST

        synth = MST(data, float(eps), float(delta))
    else:
        from aim import AIM

        rounds = os.environ.get("AIM_ROUNDS")
        workload = [(cl, 1.0) for cl in itertools.combinations(data.domain, 3)]
        aim = AIM(
            float(eps),
            float(delta),
            rounds=int(rounds) if rounds else None,
            max_model_size=float(os.environ.get("AIM_MAX_SIZE", "80")),
            max_iters=int(os.environ.get("AIM_ITERS", "1000")),
        )
        _, synth = aim.run(data, workload)
    seconds = time.perf_counter() - start
    synth.df.to_csv(out, index=False)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu_start
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_bytes": peak}))


if __name__ == "__main__":
    main()
