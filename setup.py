"""Build hook for the one C extension (reviewlake/text/_jieba_route.c, the ``jieba_c`` segmenter
backend); everything else is in setup.cfg. ``make setup`` builds it in place. Optional: when it
cannot be compiled, the package still installs and ``segment.backend: jieba`` works."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "reviewlake.text._jieba_route",
            ["reviewlake/text/_jieba_route.c"],
            optional=True,
            extra_compile_args=["-O2", "-ffp-contract=off"],
        )
    ]
)
