#!/bin/sh
# C++ compiler wrapper for mmcv's source build. torch >= 2.10 headers need C++20,
# but mmcv 2.1.0's setup.py passes -std=c++17: this swaps that one flag.
# The Makefile sets CXX to this file for the mmcv build only.
for a in "$@"; do
  shift
  [ "$a" = "-std=c++17" ] && a="-std=c++20"
  set -- "$@" "$a"
done
exec "${MMLIGHTVIT_CXX:-c++}" "$@"
