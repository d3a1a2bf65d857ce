# Build stage: the same `make build` that CI and developers run.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The build context has no .git (.dockerignore), so the version cannot be
# computed here: make image passes what git says as build arguments, and
# /version and --version of the image report them.
ARG VERSION=v0.0.0-image
ARG GIT_COMMIT=
ARG GIT_TREE_STATE=
ARG BUILD_DATE=
RUN make build VERSION="${VERSION}" GIT_COMMIT="${GIT_COMMIT}" GIT_TREE_STATE="${GIT_TREE_STATE}" \
    ${BUILD_DATE:+BUILD_DATE="${BUILD_DATE}"}

# Run stage: static binary on distroless, as a non-root user.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /src/_output/bin/mpijob-apiserver /usr/local/bin/mpijob-apiserver
USER 65532:65532
WORKDIR /var/lib/mpijob-apiserver
EXPOSE 8443
ENTRYPOINT ["/usr/local/bin/mpijob-apiserver"]
CMD ["--data-dir=/var/lib/mpijob-apiserver", "--bind-address=0.0.0.0"]
