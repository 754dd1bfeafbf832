"""``spark-submit pipelines/score_reviews.py --model-version latest``: batch scoring of silver into gold/predictions.

Thin entry script; the job is reviewlake/jobs/score_reviews.py (``--help`` lists its options).
"""

import sys

from reviewlake.jobs.score_reviews import main

if __name__ == "__main__":
    sys.exit(main())
