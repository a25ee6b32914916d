# mmrepro in a Debian 12 container. mmrepro measures the kernel it runs on, so
# the container needs that kernel's /sys and /proc, writable: run it
# privileged (README, "Container"):
#
#   docker build -t mmrepro .
#   docker run --rm --privileged -v /run/mmrepro:/run/mmrepro \
#       -v "$PWD/reports:/reports" mmrepro run quick -o /reports/quick.json
#
# Stages: the build dependencies, the run-time libraries (each on its own, so
# a builder can keep them cached: tests/integration/test_container.py tags
# them), the build, and the image, which keeps only the binary, its data and
# the run-time libraries (and gnuplot, which draws `mmrepro compare --html`'s
# plots, and the allocators mthp_alloc LD_PRELOADs: ./bootstrap's RUN_PKGS).
ARG BASE=debian:12

FROM ${BASE} AS build-deps
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config \
      libjansson-dev liburing-dev libnuma-dev libhwloc-dev zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*

FROM ${BASE} AS run-deps
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libjansson4 liburing2 libnuma1 libhwloc15 zlib1g util-linux procps \
      libjemalloc2 libtcmalloc-minimal4 libmimalloc2.0 \
      gnuplot-nox \
 && rm -rf /var/lib/apt/lists/*

FROM build-deps AS build
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMMREPRO_WERROR=ON \
      -DMMREPRO_TESTS=OFF -DCMAKE_INSTALL_PREFIX=/usr/local \
 && cmake --build /build -j"$(nproc)" \
 && DESTDIR=/install cmake --install /build

FROM run-deps
COPY --from=build /install/ /
ENTRYPOINT ["mmrepro"]
CMD ["--help"]
