"""``spark-submit pipelines/train_model.py [--lakehouse URI]``: train with Horovod on Spark, evaluate,
export a model version.

Thin entry script; the job is reviewlake/jobs/train_model.py (``--help`` lists its options).
"""

import sys

from reviewlake.jobs.train_model import main

if __name__ == "__main__":
    sys.exit(main())
