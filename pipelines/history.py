"""``spark-submit pipelines/history.py [--table layer/name]``: a table's Delta history.

Thin entry script; the job is reviewlake/jobs/history.py (``--help`` lists its options).
"""

import sys

from reviewlake.jobs.history import main

if __name__ == "__main__":
    sys.exit(main())
