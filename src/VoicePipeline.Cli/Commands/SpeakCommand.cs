using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using VoicePipeline.Audio;
using VoicePipeline.Cli.Infrastructure;
using VoicePipeline.Together.Client;
using VoicePipeline.Together.Speech;

namespace VoicePipeline.Cli.Commands;

/// <summary><c>vp speak TEXT -o OUT.wav</c> and <c>vp voices</c>: Together's text-to-speech.</summary>
internal static class SpeakCommand
{
    public static Command CreateSpeak()
    {
        var text = new Argument<string>("text") { Description = "What to say." };
        var output = new Option<string>("--output", "-o") { Required = true, Description = "The WAV file to write (PCM s16le mono)." };
        var mode = new Option<string>("--mode") { DefaultValueFactory = _ => "rest", Description = "rest, sse or websocket." };
        mode.AcceptOnlyFromAmong("rest", "sse", "websocket");
        var voice = new Option<string>("--voice") { DefaultValueFactory = _ => TogetherTtsOptions.DefaultVoice, Description = "The voice (see vp voices)." };
        var model = new Option<string>("--model") { DefaultValueFactory = _ => TogetherTtsOptions.DefaultModel, Description = "The model." };
        var sampleRate = new Option<int>("--sample-rate") { DefaultValueFactory = _ => SpeechRequest.ModelSampleRate, Description = "The WAV's sample rate (8000-96000)." };
        sampleRate.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 8000 or > 96000)
                r.AddError("--sample-rate must be between 8000 and 96000");
        });
        var (baseUrl, apiKey) = EndpointOptions();
        var command = new Command("speak", "Synthesize speech with Together's text-to-speech into a WAV file.") { text, output, mode, voice, model, sampleRate, baseUrl, apiKey };
        command.SetAction((result, cancellationToken) => CliErrors.RunAsync(async () =>
        {
            var input = result.GetValue(text)!;
            if (string.IsNullOrWhiteSpace(input))
                throw new ArgumentException("nothing to say: TEXT is empty");
            var rate = result.GetValue(sampleRate);
            var chosen = result.GetValue(mode)!;
            using var target = new SafeOutputFile(result.GetValue(output)!);
            await using var endpoint = await TogetherEndpoint.ResolveAsync(result.GetValue(apiKey), result.GetValue(baseUrl), cancellationToken: cancellationToken);
            using var client = new TogetherSpeechClient(new TogetherClientOptions { ApiKey = endpoint.ApiKey, BaseUrl = endpoint.BaseUrl });
            var request = new SpeechRequest { Input = input, Model = result.GetValue(model)!, Voice = result.GetValue(voice)! };

            long samples;
            using (var wav = new WavWriter(File.Create(target.TempPath), rate))
            {
                // The project's resampler from the models' 24 kHz to the asked rate (a plain copy when they are equal).
                var converter = new MonoConverter(SpeechRequest.ModelSampleRate, 1, rate);
                void Write(ReadOnlySpan<byte> pcm) => wav.Write(converter.Convert(Pcm.AsSamples(pcm)));
                if (chosen == "websocket")
                {
                    await using var connection = await client.ConnectAsync(request.Model, request.Voice, cancellationToken);
                    await foreach (var chunk in connection.SynthesizeAsync(input, cancellationToken: cancellationToken))
                        Write(chunk.Audio.Span);
                }
                else
                {
                    var streamMode = chosen == "sse" ? TogetherTtsMode.Sse : TogetherTtsMode.Rest;
                    await foreach (var chunk in client.StreamAsync(request, streamMode, cancellationToken))
                        Write(chunk.Audio.Span);
                }
                wav.Write(converter.Flush());
                samples = wav.SampleCount;
            }
            if (samples == 0)
                throw new TogetherApiException("The server sent no audio.", null, "empty_audio", null);
            target.Commit();
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"vp: wrote {result.GetValue(output)}: {(double)samples / rate:0.00} s at {rate} Hz ({request.Model}, {request.Voice}, {chosen})"));
            return CliErrors.Ok;
        }));
        return command;
    }

    public static Command CreateVoices()
    {
        var json = new Option<bool>("--json") { Description = "Print {\"data\":[{\"model\",\"voices\":[{\"id\",\"name\"}]}]} as the API does." };
        var (baseUrl, apiKey) = EndpointOptions();
        var command = new Command("voices", "List Together's speech models and their voices.") { json, baseUrl, apiKey };
        command.SetAction((result, cancellationToken) => CliErrors.RunAsync(async () =>
        {
            await using var endpoint = await TogetherEndpoint.ResolveAsync(result.GetValue(apiKey), result.GetValue(baseUrl), cancellationToken: cancellationToken);
            using var client = new TogetherSpeechClient(new TogetherClientOptions { ApiKey = endpoint.ApiKey, BaseUrl = endpoint.BaseUrl });
            var models = await client.GetVoicesAsync(cancellationToken);
            if (result.GetValue(json))
            {
                using var stream = Console.OpenStandardOutput();
                using (var writer = new Utf8JsonWriter(stream))
                {
                    writer.WriteStartObject();
                    writer.WriteStartArray("data");
                    foreach (var m in models)
                    {
                        writer.WriteStartObject();
                        writer.WriteString("model", m.Model);
                        writer.WriteStartArray("voices");
                        foreach (var v in m.Voices)
                        {
                            writer.WriteStartObject();
                            writer.WriteString("id", v.Id);
                            writer.WriteString("name", v.Name ?? v.Id);
                            writer.WriteEndObject();
                        }
                        writer.WriteEndArray();
                        writer.WriteEndObject();
                    }
                    writer.WriteEndArray();
                    writer.WriteEndObject();
                }
                stream.Write("\n"u8);
            }
            else
            {
                foreach (var m in models)
                    Console.WriteLine(TerminalText.CleanLine($"{m.Model}: {string.Join(", ", m.Voices.Select(v => v.Id))}"));
            }
            return CliErrors.Ok;
        }));
        return command;
    }

    private static (Option<string?> BaseUrl, Option<string?> ApiKey) EndpointOptions() => (
        new Option<string?>("--base-url") { Description = "The Together API base URL (or a compatible server)." },
        new Option<string?>("--api-key") { Description = "The API key (default: TOGETHER_API_KEY); without one the embedded emulator runs offline." });
}
