"""rearing: does the structure of moral training data change what a language model internalizes?"""

__version__ = "0.1.0"
