using System.Buffers.Binary;
using System.Diagnostics;

namespace VoicePipeline.Tests.Shared;

/// <summary>
/// Real audio for tests: speech synthesized by espeak-ng, converted by ffmpeg, and recordings shipped by Debian packages.
/// Compiled into each test project from tests/Shared.
/// </summary>
internal static class TestAudio
{
    /// <summary>The LibriVox recordings of Debian's pocketsphinx-testdata package.</summary>
    public const string LibriVoxDirectory = "/usr/share/pocketsphinx/test/data/librivox";

    private static readonly Lazy<string> s_directory = new(() =>
    {
        var dir = Path.Combine(Path.GetTempPath(), "voicepipeline-tests", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        System.IO.Directory.CreateDirectory(dir);
        return dir;
    });

    /// <summary>A per-process scratch folder for generated fixtures.</summary>
    public static string ScratchDirectory => s_directory.Value;

    /// <summary>Returns a fresh path in the scratch folder.</summary>
    public static string TempPath(string extension) => Path.Combine(ScratchDirectory, $"{Guid.NewGuid():N}{extension}");

    /// <summary>Synthesizes <paramref name="text"/> with espeak-ng and returns mono s16 samples at <paramref name="sampleRate"/>.</summary>
    public static short[] Speak(string text, int sampleRate = 16_000, string voice = "en-us", int wordsPerMinute = 160)
    {
        var wav = TempPath(".wav");
        Run("espeak-ng", ["-v", voice, "-s", wordsPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture), "-w", wav, text]);
        try
        {
            return Decode(wav, sampleRate);
        }
        finally
        {
            File.Delete(wav);
        }
    }

    /// <summary>Decodes any file ffmpeg reads to mono s16 samples at <paramref name="sampleRate"/> (fixture truth, not project code).</summary>
    public static short[] Decode(string path, int sampleRate = 16_000, int channels = 1)
    {
        var raw = TempPath(".raw");
        Run("ffmpeg", ["-nostdin", "-v", "error", "-y", "-i", path, "-f", "s16le", "-acodec", "pcm_s16le",
            "-ac", channels.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-ar", sampleRate.ToString(System.Globalization.CultureInfo.InvariantCulture), raw]);
        try
        {
            return FromBytes(File.ReadAllBytes(raw));
        }
        finally
        {
            File.Delete(raw);
        }
    }

    /// <summary>Encodes s16 samples with ffmpeg into <paramref name="path"/>, its format chosen by the extension.</summary>
    public static string Encode(short[] samples, int sampleRate, string path, int channels = 1, params string[] extraArgs)
    {
        var raw = TempPath(".raw");
        File.WriteAllBytes(raw, ToBytes(samples));
        try
        {
            var ch = channels.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var rate = sampleRate.ToString(System.Globalization.CultureInfo.InvariantCulture);
            Run("ffmpeg", ["-nostdin", "-v", "error", "-y", "-f", "s16le", "-ac", ch, "-ar", rate, "-i", raw, .. extraArgs, path]);
            return path;
        }
        finally
        {
            File.Delete(raw);
        }
    }

    /// <summary>Digital silence.</summary>
    public static short[] Silence(double seconds, int sampleRate = 16_000) => new short[(int)Math.Round(seconds * sampleRate)];

    /// <summary>Joins clips.</summary>
    public static short[] Concat(params short[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>s16 samples to little-endian bytes.</summary>
    public static byte[] ToBytes(ReadOnlySpan<short> samples)
    {
        var bytes = new byte[samples.Length * 2];
        for (var i = 0; i < samples.Length; i++)
            BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(i * 2), samples[i]);
        return bytes;
    }

    /// <summary>Little-endian bytes to s16 samples.</summary>
    public static short[] FromBytes(ReadOnlySpan<byte> bytes)
    {
        var samples = new short[bytes.Length / 2];
        for (var i = 0; i < samples.Length; i++)
            samples[i] = BinaryPrimitives.ReadInt16LittleEndian(bytes[(i * 2)..]);
        return samples;
    }

    /// <summary>Writes a canonical 16-bit PCM WAV file (for fixtures).</summary>
    public static string WriteWav(string path, ReadOnlySpan<short> samples, int sampleRate, int channels = 1)
    {
        var data = ToBytes(samples);
        using var stream = File.Create(path);
        using var w = new BinaryWriter(stream);
        w.Write("RIFF"u8); w.Write(36 + data.Length); w.Write("WAVE"u8);
        w.Write("fmt "u8); w.Write(16); w.Write((short)1); w.Write((short)channels); w.Write(sampleRate);
        w.Write(sampleRate * channels * 2); w.Write((short)(channels * 2)); w.Write((short)16);
        w.Write("data"u8); w.Write(data.Length); w.Write(data);
        return path;
    }

    /// <summary>Runs a tool to completion and throws with its stderr when it fails.</summary>
    public static string Run(string fileName, IEnumerable<string> arguments) => ToolRun.RunChecked(fileName, arguments);
}
