# syntax=docker/dockerfile:1
# regsweep's container images: one Dockerfile, two targets sharing one build stage.
#
#   docker build --target action .      the GitHub Action's image (runs as root)
#   docker build --target kubernetes .  CronJobs and other schedulers (non-root)
#
# Why two targets and not one image: a Docker action runs with no `--user`, as the
# image's USER, and everything the runner mounts (the workspace, $GITHUB_OUTPUT,
# $GITHUB_STEP_SUMMARY) belongs to the runner's user (uid 1001 on hosted runners) with
# mode 0644. GitHub's "Dockerfile support for GitHub Actions" therefore requires the
# default user, root: a non-root image cannot append its outputs ("Permission denied").
# On Kubernetes the opposite holds: nothing is mounted from a runner, and the pod
# should run non-root with a read-only root filesystem. The binary is the same in both;
# only the user differs, so one build stage feeds two small final stages.
#
# Published as ghcr.io/regsweep/regsweep:vX.Y.Z (action) and :vX.Y.Z-nonroot
# (kubernetes), with the moving major tags :vX and :vX-nonroot
# (.github/workflows/release.yml).

FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY . .
# Without the `emulator` feature: no `demo`/`bench`, no server code (about 10 MB stripped).
RUN cargo build --release --locked -p regsweep --no-default-features && strip target/release/regsweep

# The Kubernetes image: distroless `nonroot` (uid 65532), no shell, nothing written
# outside mounted volumes (--cache-dir, --journal), so `readOnlyRootFilesystem: true`
# works.
FROM gcr.io/distroless/cc-debian12:nonroot AS kubernetes
COPY --from=build /src/target/release/regsweep /usr/local/bin/regsweep
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/regsweep"]

# The GitHub Action's image: the default user, root, as GitHub requires (see above).
# Last, so a plain `docker build .` gives the image action.yml runs.
FROM gcr.io/distroless/cc-debian12 AS action
COPY --from=build /src/target/release/regsweep /usr/local/bin/regsweep
WORKDIR /github/workspace
ENTRYPOINT ["/usr/local/bin/regsweep"]
