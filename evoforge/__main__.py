import sys

from evoforge.cli import main

sys.exit(main())
