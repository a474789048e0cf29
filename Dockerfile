# syntax=docker/dockerfile:1
# VoicePipeline's voice-agent server (`vp serve`) as a container: multi-stage, non-root, models included.
#   docker build -t voicepipeline .
#   docker run -p 8765:8765 -e TOGETHER_API_KEY=... voicepipeline
# Without TOGETHER_API_KEY the server runs against the embedded emulator (offline engines below), for trials only.
# The base images can be swapped for a mirror's copies: --build-arg SDK_IMAGE=... --build-arg RUNTIME_IMAGE=...

ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0

FROM ${SDK_IMAGE} AS build
WORKDIR /src
# Restore first, from the project files only, so source edits keep the restore layer cached.
COPY Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/ src/
RUN dotnet restore src/VoicePipeline.Cli/VoicePipeline.Cli.csproj
COPY models/ models/
RUN dotnet publish src/VoicePipeline.Cli/VoicePipeline.Cli.csproj -c Release --no-restore -o /app \
    -p:UseAppHost=false

FROM ${RUNTIME_IMAGE} AS runtime
# The emulator's offline engines (used only when no Together key is configured) and ffmpeg for file inputs.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libespeak-ng1 libpocketsphinx3 pocketsphinx-en-us ffmpeg \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# The Silero model ships inside the publish output (models/silero_vad.onnx beside vp.dll).
COPY --from=build /app ./
ENV ASPNETCORE_ENVIRONMENT=Production \
    DOTNET_gcServer=1 \
    DOTNET_GCDynamicAdaptationMode=1 \
    DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1
# The aspnet images ship an unprivileged "app" user (UID 1654).
USER app
EXPOSE 8765
# Bind every interface inside the container; the pod's network policy and Service decide who reaches it.
ENTRYPOINT ["dotnet", "vp.dll", "serve", "--host", "0.0.0.0", "--port", "8765"]
