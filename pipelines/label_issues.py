"""``spark-submit pipelines/label_issues.py [--lakehouse URI]``: gold features + silver text -> gold.label_issues,
the ranked queue of likely mislabelled reviews (out-of-fold char n-gram model + confident learning).

Thin entry script; the job is reviewlake/jobs/label_issues.py (``--help`` lists its options).
"""

import sys

from reviewlake.jobs.label_issues import main

if __name__ == "__main__":
    sys.exit(main())
