#!/usr/bin/env bash
exec ../setup_pytest_suite/run_suite.sh "$@"
