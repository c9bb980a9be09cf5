#!/usr/bin/env python3
"""CPU seconds of a random sample of a build directory's files compiled with and without its
precompiled header (docs/benchmarks.md, "Build cost of the sanitizer presets").

    cd build/debug && python3 ../../scripts/pch_sample.py 16

Each sampled file is compiled twice from compile_commands.json into /tmp/pch_sample.o: as the
build compiles it, and with `-Winvalid-pch -include <precompiled header>` removed. Prints each
file's user + system seconds and the totals. The build directory must have been built (the
precompiled headers exist) and be configured with EDDY_PRECOMPILED_HEADERS=ON.
"""
import json
import os
import random
import re
import resource
import subprocess
import sys


def cpu_seconds(command, cwd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, shell=True, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 16
    random.seed(7)
    entries = [e for e in json.load(open("compile_commands.json"))
               if "cmake_pch.hxx" in e["command"] and "cmake/pch/anchor.cc" not in e["file"]
               and not e["file"].endswith("cmake_pch.hxx.cxx")]
    if not entries:
        sys.exit("no file here uses a precompiled header (EDDY_PRECOMPILED_HEADERS=ON?)")
    with_header = without = 0.0
    for entry in random.sample(entries, min(count, len(entries))):
        command = re.sub(r" -o \S+", " -o /tmp/pch_sample.o", entry["command"])
        command = re.sub(r" -MD -MT \S+ -MF \S+", "", command)
        a = cpu_seconds(command, entry["directory"])
        b = cpu_seconds(re.sub(r" -Winvalid-pch -include \S+", "", command), entry["directory"])
        with_header += a
        without += b
        print(f"{os.path.relpath(entry['file'])}: {a:.2f} s with the header, {b:.2f} s without",
              flush=True)
    print(f"total: {with_header:.1f} s with, {without:.1f} s without, "
          f"{100 * (1 - with_header / without):.0f}% less")


if __name__ == "__main__":
    main()
