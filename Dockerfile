# isoscope serve / train in a container: built from Debian 12's packages only, runs as a
# non-root user (uid 10001, as runAsUser in native/deploy/kubernetes). Build it with
# `make image` (tags isoscope:<version> and isoscope:<version>-<commit>). Checked offline by
# tests/deploy/check_dockerfile.sh: the build stage installs the Makefile's PKGS_BUILD, the
# runtime stage every package that owns a shared library the built binary links.

FROM debian:12-slim AS build
# Keep in step with PKGS_BUILD in the Makefile (a test compares them).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      cmake make g++ pkg-config libmsgpack-cxx-dev libcli11-dev \
      nlohmann-json3-dev libcpp-httplib-dev libyaml-cpp-dev prometheus-cpp-dev libssl-dev \
      libcrypt-dev zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY core/ core/
COPY native/ native/
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DISOSCOPE_STRICT=ON \
 && cmake --build /build -j"$(nproc)" --target isoscope \
 && /build/native/isoscope --version

FROM debian:12-slim
ARG VERSION=dev
ARG COMMIT=unknown
LABEL org.opencontainers.image.title="isoscope" \
      org.opencontainers.image.description="Isolation Forest anomaly scoring for Prometheus" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}" \
      org.opencontainers.image.base.name="debian:12-slim"
# The shared libraries of the binary (a test derives this list from `ldd` of the build).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libstdc++6 libgcc-s1 libc6 libyaml-cpp0.7 libprometheus-cpp-core1.0 libcpp-httplib0.11 \
      libssl3 libcrypt1 zlib1g libbrotli1 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 isoscope \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin isoscope
COPY --from=build /build/native/isoscope /usr/local/bin/isoscope
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["isoscope"]
CMD ["serve", "--config", "/etc/isoscope/isoscope.yml"]
