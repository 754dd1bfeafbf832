"""``spark-submit pipelines/clean_reviews.py --input data/landing [--lakehouse URI]``: ingest landing
files into bronze and build silver.

Thin entry script; the job is reviewlake/jobs/clean_reviews.py (``--help`` lists its options).
"""

import sys

from reviewlake.jobs.clean_reviews import main

if __name__ == "__main__":
    sys.exit(main())
