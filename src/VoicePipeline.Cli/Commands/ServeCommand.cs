using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Hosting;
using VoicePipeline.Cli.Infrastructure;
using VoicePipeline.Together.Chat;
using VoicePipeline.Together.Speech;

namespace VoicePipeline.Cli.Commands;

/// <summary>
/// <c>vp serve</c>: the voice agent as a server real clients connect to. Each connection runs
/// input -> VAD (one shared Silero batcher) -> Together STT -> LLM -> Together TTS -> output, with the server's limits,
/// health endpoints and a graceful drain on SIGTERM.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var host = new Option<string>("--host") { Description = "The interface to listen on.", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "The port (0 picks a free one).", DefaultValueFactory = _ => 8765 };
        var maxSessions = new Option<int>("--max-sessions") { Description = "Sessions at once; more get 503 with Retry-After.", DefaultValueFactory = _ => 64 };
        var maxLag = new Option<double?>("--max-lag") { Description = "Also refuse new sessions (503) while the server lags more than this many milliseconds behind (its thread pool's delay, the largest of the last second); off by default." };
        var allowedOrigins = new Option<string[]>("--allowed-origin") { Description = "A browser origin allowed besides the server's own (repeatable; * allows all).", Arity = ArgumentArity.ZeroOrMore };
        var publicUrl = new Option<string?>("--public-url") { Description = "The address the server is reached at from the internet (Twilio's stream URL); by default the request's Host / X-Forwarded-Host." };
        var gracePeriod = new Option<double>("--grace-period") { Description = "Seconds live sessions get to finish on SIGTERM before they are ended.", DefaultValueFactory = _ => 30 };
        var systemPrompt = new Option<string>("--system-prompt") { Description = "The assistant's instructions.", DefaultValueFactory = _ => "You are a helpful, brief voice assistant." };
        var llmModel = new Option<string>("--llm-model") { Description = "The chat model.", DefaultValueFactory = _ => TogetherChat.DefaultModel };
        var voice = new Option<string>("--voice") { Description = "The TTS voice.", DefaultValueFactory = _ => TogetherTtsOptions.DefaultVoice };
        var baseUrl = new Option<string?>("--base-url") { Description = "The Together API base URL (or a compatible server)." };
        var apiKey = new Option<string?>("--api-key") { Description = "The API key (default: TOGETHER_API_KEY). Without one, the embedded emulator runs offline." };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log progress to stderr." };
        var otlp = new Option<string?>("--otlp") { Description = "Export traces (conversation, turn, stt/llm/tts spans) and metrics over OTLP/HTTP to this collector, e.g. http://localhost:4318." };
        var command = new Command("serve", "Serve the voice agent: a browser page at /, the raw wire at /ws, Twilio's webhook at /twilio, /healthz, /readyz and Prometheus /metrics.")
        {
            host, port, maxSessions, maxLag, allowedOrigins, publicUrl, gracePeriod, systemPrompt, llmModel, voice, baseUrl, apiKey, verbose, otlp,
        };
        command.SetAction((result, cancellationToken) => CliErrors.RunAsync(async () =>
        {
            Uri? publicAddress = null;
            if (result.GetValue(publicUrl) is { } url && (!Uri.TryCreate(url, UriKind.Absolute, out publicAddress) || publicAddress.Scheme is not ("http" or "https")))
                throw new ArgumentException($"--public-url: '{url}' is not an absolute http(s) URL");
            var grace = result.GetValue(gracePeriod);
            if (grace < 0)
                throw new ArgumentException("--grace-period: seconds, 0 or more");
            if (result.GetValue(maxSessions) < 1)
                throw new ArgumentException("--max-sessions: 1 or more");
            var otlpEndpoint = ServeTelemetry.ParseOtlp(result.GetValue(otlp));
            if (result.GetValue(maxLag) is <= 0)
                throw new ArgumentException("--max-lag: milliseconds, more than 0");
            await using var endpoint = await TogetherEndpoint.ResolveAsync(result.GetValue(apiKey), result.GetValue(baseUrl), cancellationToken: cancellationToken).ConfigureAwait(false);
            using var logging = CliLogging.Create(result.GetValue(verbose));

            var builder = ServeAgent.CreateBuilder(result.GetValue(host)!, result.GetValue(port), logging, o =>
            {
                o.MaxSessions = result.GetValue(maxSessions);
                o.MaxSchedulingLag = result.GetValue(maxLag) is { } lag ? TimeSpan.FromMilliseconds(lag) : null;
                o.DrainGracePeriod = TimeSpan.FromSeconds(grace);
                foreach (var origin in result.GetValue(allowedOrigins) ?? [])
                    o.AllowedOrigins.Add(origin);
            });
            ServeTelemetry.Add(builder.Services, otlpEndpoint);
            var app = builder.Build();
            await using (app.ConfigureAwait(false))
            {
                using var agent = new ServeAgent(endpoint.BaseUrl, endpoint.ApiKey, result.GetValue(systemPrompt)!, result.GetValue(llmModel)!, result.GetValue(voice)!, logging) { EnableMetrics = otlpEndpoint is not null };
                agent.MapEndpoints(app, publicAddress);
                ServeTelemetry.MapMetrics(app);

                await app.StartAsync(cancellationToken).ConfigureAwait(false);
                var address = new Uri(app.Urls.First());
                if (ServeAgent.InlineSocketCompletions)
                    Console.WriteLine($"vp serve: socket I/O completes inline ({ServeAgent.InlineSocketCompletionsVariable}=1)");
                Console.WriteLine($"vp serve: listening on {address.GetLeftPart(UriPartial.Authority)}/ (page /, raw wire /ws, Pipecat clients /pipecat/ws, Twilio webhook /twilio and stream /twilio/ws, /healthz, /readyz, /metrics); SIGTERM or Ctrl+C drains for up to {grace.ToString(CultureInfo.InvariantCulture)} s");
                // Ctrl+C and SIGTERM stop the host (its console lifetime), which drains the sessions before it stops.
                await app.WaitForShutdownAsync(CancellationToken.None).ConfigureAwait(false);
            }
            Console.WriteLine("vp serve: stopped");
            return CliErrors.Ok;
        }));
        return command;
    }
}
