#!/usr/bin/env python3
"""Run a Python unittest file and report in TAP, for automake's TAP driver.

Usage: taprun.py tests/emulators/test_x.py
Each test method is one TAP result; a skipped test is "ok N # SKIP reason".
"""
import importlib.util
import os
import sys
import unittest


class TapResult(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.n = 0

    def _line(self, ok, test, directive=""):
        self.n += 1
        name = "%s.%s" % (type(test).__name__, getattr(test, "_testMethodName", str(test)))
        print("%s %d - %s%s" % ("ok" if ok else "not ok", self.n, name, directive), flush=True)

    def addSuccess(self, test):
        super().addSuccess(test)
        self._line(True, test)

    def _diag(self, err, test):
        text = self._exc_info_to_string(err, test) if err else ""
        for line in text.splitlines():
            print("# " + line)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._line(False, test)
        self._diag(err, test)

    def addError(self, test, err):
        super().addError(test, err)
        self._line(False, test)
        self._diag(err, test)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._line(True, test, " # SKIP %s" % reason)

    def addExpectedFailure(self, test, err):
        # TAP: a failing TODO test is "not ok ... # TODO" (automake XFAIL); "ok ... # TODO" would be XPASS
        super().addExpectedFailure(test, err)
        self._line(False, test, " # TODO expected failure")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._line(False, test)


def main(path):
    path = os.path.abspath(path)
    sys.path.insert(0, os.path.dirname(path))
    spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(path))[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    suite = unittest.defaultTestLoader.loadTestsFromModule(module)
    result = TapResult()
    suite.run(result)
    if result.n == 0:
        print("1..0 # SKIP no tests")
        return 0
    print("1..%d" % result.n)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
