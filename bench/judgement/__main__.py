"""``python -m bench.judgement``: run the blind bench (see ``bench.judgement``)."""

import sys

from bench.judgement.cli import main

sys.exit(main())
