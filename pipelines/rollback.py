"""``spark-submit pipelines/rollback.py --table layer/name --version N``: RESTORE a table to an earlier version.

Thin entry script; the job is reviewlake/jobs/rollback.py (``--help`` lists its options).
"""

import sys

from reviewlake.jobs.rollback import main

if __name__ == "__main__":
    sys.exit(main())
