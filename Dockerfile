# syntax=docker/dockerfile:1
# ArgoHooks: one image for the hook service (default) and the verification Job (`args: ["call", ...]`).
#
# Publish mode (tests/Deploy.Tests/ContainerImageTests runs the publish command below verbatim):
# self-contained + ReadyToRun, neither trimmed nor Native AOT. Measured here: PublishTrimmed fails
# the build (warnings are errors) with 29 IL2026 in our code (reflection-based System.Text.Json,
# DataAnnotations options validation) plus trim warnings inside KubernetesClient and YamlDotNet;
# with the warnings silenced, both the trimmed and the Native AOT binary crash at run time on
# `argohooks health` ("Reflection-based serialization has been disabled"), and NLua binds CLR
# members by reflection, which a trimmer cannot see. ReadyToRun keeps start-up fast (precompiled
# code) with full reflection. Self-contained lets the runtime stage be runtime-deps (no shared
# .NET); the publish output is ~137 MB, about what aspnet-chiseled + a framework-dependent app is.

FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
WORKDIR /src

# Restore first, from the project files only (every project src/HookService references, directly or not;
# tests/Deploy.Tests fails when one is missing), so source edits reuse the cached package layer.
COPY ArgoHooks.sln Directory.Build.props Directory.Packages.props ./
COPY src/HookService/HookService.csproj src/HookService/
COPY src/ArgoHooks.Health/ArgoHooks.Health.csproj src/ArgoHooks.Health/
COPY src/ArgoHooks.SyncLayout/ArgoHooks.SyncLayout.csproj src/ArgoHooks.SyncLayout/
RUN dotnet restore src/HookService/HookService.csproj -r linux-x64 -p:SelfContained=true -p:PublishReadyToRun=true

# The health script is embedded into ArgoHooks.Health from lua/.
COPY lua/ lua/
COPY src/ArgoHooks.Health/ src/ArgoHooks.Health/
COPY src/ArgoHooks.SyncLayout/ src/ArgoHooks.SyncLayout/
COPY src/HookService/ src/HookService/
RUN dotnet publish src/HookService/HookService.csproj -c Release -r linux-x64 --self-contained -p:PublishReadyToRun=true -o /app
# NLua's native Lua (liblua54.so for linux-x64) must be next to the executable.
RUN test -x /app/argohooks && test -f /app/liblua54.so

# Chiseled Ubuntu: no shell, no package manager; glibc, OpenSSL, libstdc++ only. The service runs
# with InvariantGlobalization, so no ICU is needed.
FROM mcr.microsoft.com/dotnet/runtime-deps:10.0-noble-chiseled AS runtime
WORKDIR /app
# Owned by root and read-only for everyone else: nothing in the image is written at run time
# (the Deployment mounts an emptyDir at /tmp, the image's /tmp is world-writable for plain runs).
COPY --from=build --chown=0:0 /app /app
ENV ASPNETCORE_HTTP_PORTS=8080 \
    DOTNET_NOLOGO=1 \
    HOME=/tmp
EXPOSE 8080
# Numeric, non-root; OpenShift replaces it with an arbitrary UID in group 0, which can read /app.
USER 1001
ENTRYPOINT ["/app/argohooks"]
