"""``spark-submit pipelines/run_all.py [--train]``: the nightly chain clean_reviews -> build_features ->
label_issues -> [train_model] -> score_reviews, in one driver (``--isolated``: one spark-submit per job).

Thin entry script; the job is reviewlake/jobs/nightly.py (``--help`` lists its options).
"""

import sys

from reviewlake.jobs.nightly import main

if __name__ == "__main__":
    sys.exit(main())
