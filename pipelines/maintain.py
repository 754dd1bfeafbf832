"""``spark-submit pipelines/maintain.py [--table layer/name]``: OPTIMIZE and VACUUM the Delta tables.

Thin entry script; the job is reviewlake/jobs/maintain.py (``--help`` lists its options).
"""

import sys

from reviewlake.jobs.maintain import main

if __name__ == "__main__":
    sys.exit(main())
