// The Pipecat client test's page script: Pipecat's published web client, unmodified, with the WebSocket transport and its
// ProtobufFrameSerializer. WavMediaManager captures the (fake) microphone; the default media manager would load code from
// the network at run time. Everything the client reports is collected in window.pipecatTest for the test to read.
import { PipecatClient } from "@pipecat-ai/client-js";
import { WebSocketTransport, ProtobufFrameSerializer, WavMediaManager } from "@pipecat-ai/websocket-transport";

const state = (window.pipecatTest = {
  botReady: null,
  transcripts: [],
  botLlmText: [],
  botTtsText: [],
  events: [],
  errors: [],
  botAudioSamples: 0,
  botAudioPeak: 0,
});

// Counts the bot audio the transport hands to the player (the player itself is the package's).
class CountingWavMediaManager extends WavMediaManager {
  bufferBotAudio(data, id) {
    const samples = data instanceof Int16Array ? data : new Int16Array(data);
    state.botAudioSamples += samples.length;
    for (const s of samples) state.botAudioPeak = Math.max(state.botAudioPeak, Math.abs(s));
    return super.bufferBotAudio(data, id);
  }
}

window.startPipecat = async (wsUrl) => {
  const transport = new WebSocketTransport({
    serializer: new ProtobufFrameSerializer(),
    mediaManager: new CountingWavMediaManager(512, 16000),
    recorderSampleRate: 16000,
    playerSampleRate: 24000,
  });
  const client = new PipecatClient({
    transport,
    enableMic: true,
    enableCam: false,
    callbacks: {
      onBotReady: (data) => { state.botReady = data; },
      onUserTranscript: (data) => { state.transcripts.push(data); },
      onBotLlmText: (data) => { state.botLlmText.push(data.text); },
      onBotTtsText: (data) => { state.botTtsText.push(data.text); },
      onUserStartedSpeaking: () => state.events.push("user-started-speaking"),
      onUserStoppedSpeaking: () => state.events.push("user-stopped-speaking"),
      onBotLlmStarted: () => state.events.push("bot-llm-started"),
      onBotLlmStopped: () => state.events.push("bot-llm-stopped"),
      onBotTtsStarted: () => state.events.push("bot-tts-started"),
      onBotTtsStopped: () => state.events.push("bot-tts-stopped"),
      onBotStartedSpeaking: () => state.events.push("bot-started-speaking"),
      onBotStoppedSpeaking: () => state.events.push("bot-stopped-speaking"),
      onError: (message) => { state.errors.push(JSON.stringify(message)); },
    },
  });
  window.pipecatClient = client;
  await client.connect({ wsUrl });
  return state.botReady;
};
