namespace VoicePipeline.Together.Emulator.Speech;

/// <summary>A voice the emulator offers.</summary>
/// <param name="Id">The Together voice id.</param>
/// <param name="Female">Whether it is a female voice.</param>
/// <param name="British">Whether it speaks British English.</param>
internal sealed record EmulatedVoice(string Id, bool Female, bool British);

/// <summary>A speech model the emulator offers.</summary>
/// <param name="Id">The model id.</param>
/// <param name="WebSocket">Whether the speech WebSocket serves it.</param>
/// <param name="Voices">Its voices.</param>
internal sealed record EmulatedSpeechModel(string Id, bool WebSocket, IReadOnlyList<EmulatedVoice> Voices)
{
    public EmulatedVoice? FindVoice(string? id) => Voices.FirstOrDefault(v => string.Equals(v.Id, id, StringComparison.Ordinal));
}

/// <summary>The speech models and voices of Together's catalogue that the emulator answers for (all spoken by espeak-ng).</summary>
internal static class SpeechCatalog
{
    public static IReadOnlyList<EmulatedSpeechModel> Models { get; } =
    [
        new("hexgrad/Kokoro-82M", true,
        [
            .. Voices(female: true, british: false, "af_alloy", "af_aoede", "af_bella", "af_heart", "af_jessica", "af_kore", "af_nicole", "af_nova", "af_river", "af_sarah", "af_sky"),
            .. Voices(female: false, british: false, "am_adam", "am_echo", "am_eric", "am_fenrir", "am_liam", "am_michael", "am_onyx", "am_puck"),
            .. Voices(female: true, british: true, "bf_alice", "bf_emma", "bf_isabella", "bf_lily"),
            .. Voices(female: false, british: true, "bm_daniel", "bm_fable", "bm_george", "bm_lewis"),
        ]),
        new("canopylabs/orpheus-3b-0.1-ft", true,
        [
            .. Voices(female: true, british: false, "tara", "leah", "mia"),
            .. Voices(female: false, british: false, "leo", "dan", "zac"),
        ]),
        new("cartesia/sonic-2", true, CartesiaVoices()),
        new("cartesia/sonic", false, CartesiaVoices()),
        new("rime-labs/rime-arcana-v3-turbo", true,
        [
            .. Voices(female: true, british: false, "luna", "celeste", "astra"),
            .. Voices(female: false, british: false, "orion", "ursa"),
        ]),
        new("minimax/speech-2.6-turbo", true,
        [
            .. Voices(female: true, british: false, "English_Graceful_Lady", "English_radiant_girl"),
            .. Voices(female: false, british: false, "English_Insightful_Speaker", "English_Persuasive_Man"),
        ]),
    ];

    public static EmulatedSpeechModel? FindModel(string? id) => Models.FirstOrDefault(m => string.Equals(m.Id, id, StringComparison.Ordinal));

    private static EmulatedVoice[] CartesiaVoices() =>
    [
        .. Voices(female: true, british: false, "sweet lady", "helpful woman", "laidback woman"),
        .. Voices(female: false, british: false, "newsman", "friendly sidekick", "reading man"),
    ];

    private static IEnumerable<EmulatedVoice> Voices(bool female, bool british, params string[] ids) => ids.Select(id => new EmulatedVoice(id, female, british));
}
