using System.CommandLine;
using VoicePipeline.Audio;
using VoicePipeline.Cli.Infrastructure;

namespace VoicePipeline.Cli.Commands;

/// <summary><c>vp convert IN OUT.wav [--rate R] [--channels C]</c>: any audio to PCM s16le WAV, through the project's resampler.</summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "An audio file in any supported format." };
        var output = new Argument<string>("output") { Description = "The WAV file to write." };
        var rate = new Option<int?>("--rate") { Description = "Output sample rate (default: the input's)." };
        var channels = new Option<int?>("--channels") { Description = "Output channels: 1 (down-mix) or the input's (default)." };
        var command = new Command("convert", "Convert audio to a PCM s16le WAV file.") { input, output, rate, channels };
        command.SetAction((result, cancellationToken) => CliErrors.RunAsync(async () =>
        {
            SafeOutputFile.Check(result.GetValue(output), "OUTPUT"); // before any decoding
            var decoder = await AudioFile.OpenAsync(result.GetValue(input)!, cancellationToken).ConfigureAwait(false);
            await using var _ = decoder.ConfigureAwait(false);
            var info = decoder.Info;
            var outRate = result.GetValue(rate) ?? info.SampleRate;
            var outChannels = result.GetValue(channels) ?? info.Channels;
            if (outRate is < 8000 or > 192000)
                throw new ArgumentException($"--rate {outRate}: choose a rate between 8000 and 192000 Hz");
            if (outChannels != 1 && outChannels != info.Channels)
                throw new ArgumentException($"--channels {outChannels}: the output can be mono or keep the input's {info.Channels} channel(s)");
            var mono = outChannels == 1 && (info.Channels != 1 || outRate != info.SampleRate);
            var converter = mono ? new MonoConverter(info.SampleRate, info.Channels, outRate) : null;
            if (!mono && outRate != info.SampleRate)
                throw new ArgumentException($"--rate {outRate}: resampling keeps {info.Channels} channels only with --channels 1");

            using var target = new SafeOutputFile(result.GetValue(output)!, "OUTPUT");
            using (var writer = new WavWriter(File.Create(target.TempPath), outRate, outChannels))
            {
                var buffer = new short[8192 * info.Channels];
                int read;
                while ((read = await decoder.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                    writer.Write(converter is null ? buffer.AsSpan(0, read) : converter.Convert(buffer.AsSpan(0, read)));
                if (converter is not null)
                    writer.Write(converter.Flush());
            }
            target.Commit();
            return CliErrors.Ok;
        }));
        return command;
    }
}
