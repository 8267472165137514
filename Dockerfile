# regsweep as a small, non-root container image (also the GitHub Action's runtime).
FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY . .
# Without the `emulator` feature: no `demo`/`bench`, no server code (about 10 MB stripped).
RUN cargo build --release --locked -p regsweep --no-default-features && strip target/release/regsweep

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/regsweep /usr/local/bin/regsweep
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/regsweep"]
