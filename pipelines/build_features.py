"""``spark-submit pipelines/build_features.py [--lakehouse URI]``: silver -> gold vocabulary, labels and features.

Thin entry script; the job is reviewlake/jobs/build_features.py (``--help`` lists its options).
"""

import sys

from reviewlake.jobs.build_features import main

if __name__ == "__main__":
    sys.exit(main())
