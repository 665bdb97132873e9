"""Builds the hearsay Python package's extension, hearsay._hearsay, with CMake.

pip (through pyproject.toml) calls this; the package's .py files come from python/hearsay/, the
extension from the CMake target _hearsay (python/CMakeLists.txt). The CMake build lives in
build-pip/cmake (a Release build without tests, benchmarks or CUDA: the module does not use
them) unless HEARSAY_CMAKE_BUILD_DIR names an existing, configured build folder: then that one is
reused and only _hearsay is brought up to date (the test of this file does so, and so can a
developer who has built the tree already). That build must be for the interpreter running pip
(its HEARSAY_PYTHON); a mismatch is refused with both names.

Environment: HEARSAY_CMAKE_BUILD_DIR (see above), HEARSAY_CMAKE_ARGS (extra configure
arguments, split on spaces), CMAKE (the cmake to run), HEARSAY_BUILD_JOBS (parallel jobs).
"""
import glob
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))
PIP_BUILD = os.path.join(ROOT, "build-pip")  # ignored by git (/build*/)


def cache_value(build_dir, key):
    """A value of build_dir/CMakeCache.txt, or None."""
    try:
        with open(os.path.join(build_dir, "CMakeCache.txt")) as f:
            for line in f:
                name, _, value = line.rstrip("\n").partition("=")
                if name.split(":")[0] == key:
                    return value
    except OSError:
        return None
    return None


class CMakeExtension(Extension):
    def __init__(self, name, target):
        super().__init__(name, sources=[])
        self.target = target


class CMakeBuild(build_ext):
    def run(self):
        for ext in self.extensions:
            self.build_cmake(ext)

    def build_cmake(self, ext):
        cmake = os.environ.get("CMAKE", "cmake")
        if shutil.which(cmake) is None:
            sys.exit(f"hearsay: building the extension needs CMake ('{cmake}' not found)")
        build_dir = os.environ.get("HEARSAY_CMAKE_BUILD_DIR")
        if build_dir:
            build_dir = os.path.abspath(build_dir)
            python = cache_value(build_dir, "HEARSAY_PYTHON")
            if python is None:
                sys.exit(f"hearsay: HEARSAY_CMAKE_BUILD_DIR={build_dir} is not a configured "
                         "hearsay build folder (no CMakeCache.txt with HEARSAY_PYTHON)")
            if os.path.realpath(python) != os.path.realpath(sys.executable):
                sys.exit(f"hearsay: {build_dir} builds the module for {python}, but pip runs "
                         f"{sys.executable}; configure it with -DHEARSAY_PYTHON={sys.executable}")
        else:
            build_dir = os.path.join(PIP_BUILD, "cmake")
            if not os.path.exists(os.path.join(build_dir, "CMakeCache.txt")):
                args = [cmake, "-S", ROOT, "-B", build_dir, "-DCMAKE_BUILD_TYPE=Release",
                        "-DHEARSAY_BUILD_TESTS=OFF", "-DHEARSAY_BUILD_BENCH=OFF",
                        "-DHEARSAY_CUDA=OFF", f"-DHEARSAY_PYTHON={sys.executable}"]
                if shutil.which("ninja"):
                    args += ["-G", "Ninja"]
                args += shlex.split(os.environ.get("HEARSAY_CMAKE_ARGS", ""))
                subprocess.run(args, check=True)
        jobs = os.environ.get("HEARSAY_BUILD_JOBS", str(os.cpu_count() or 1))
        subprocess.run([cmake, "--build", build_dir, "--target", ext.target, "-j", jobs],
                       check=True)
        suffix = sysconfig.get_config_var("EXT_SUFFIX")
        built = glob.glob(os.path.join(build_dir, "python", "hearsay", "_hearsay" + suffix))
        if not built:
            sys.exit(f"hearsay: the build did not produce python/hearsay/_hearsay{suffix} in "
                     f"{build_dir} (is pybind11-dev installed? see the CMake output)")
        dest = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copyfile(built[0], dest)


# setuptools' own staging (and egg-info) stays out of the source tree: in build-pip/, or in the
# reused CMake build folder, so that two builds do not share it.
staging = (os.path.join(os.path.abspath(os.environ["HEARSAY_CMAKE_BUILD_DIR"]), "pip")
           if os.environ.get("HEARSAY_CMAKE_BUILD_DIR") else PIP_BUILD)
os.makedirs(staging, exist_ok=True)
setup(
    ext_modules=[CMakeExtension("hearsay._hearsay", "_hearsay")],
    cmdclass={"build_ext": CMakeBuild},
    options={"build": {"build_base": staging}, "egg_info": {"egg_base": staging}},
)
