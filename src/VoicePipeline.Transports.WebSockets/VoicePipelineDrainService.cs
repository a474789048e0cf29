using Microsoft.Extensions.Hosting;

namespace VoicePipeline.Transports.WebSockets;

/// <summary>
/// Drains the voice sessions when the host stops (SIGTERM, <c>StopAsync</c>). The drain runs in
/// <see cref="IHostedLifecycleService.StoppingAsync"/>, before any hosted service (the web server included) stops, so
/// the server keeps answering (<c>/readyz</c> 503) and live sockets keep flowing during the grace period.
/// </summary>
internal sealed class VoicePipelineDrainService(VoicePipelineServerState state) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => state.DrainAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => state.AbortAsync();

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
