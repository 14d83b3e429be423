/**
 * Every name set the emulator emits (hume-batch-api.md §4.2), in one place so predictions, CSV
 * artifacts and tests agree. Lists are alphabetical where Hume's are.
 */

/** The 48 expressions of face, prosody, burst and facemesh. */
export const EXPRESSIONS_48 = [
  'Admiration', 'Adoration', 'Aesthetic Appreciation', 'Amusement', 'Anger', 'Anxiety', 'Awe', 'Awkwardness',
  'Boredom', 'Calmness', 'Concentration', 'Confusion', 'Contemplation', 'Contempt', 'Contentment', 'Craving',
  'Desire', 'Determination', 'Disappointment', 'Disgust', 'Distress', 'Doubt', 'Ecstasy', 'Embarrassment',
  'Empathic Pain', 'Entrancement', 'Envy', 'Excitement', 'Fear', 'Guilt', 'Horror', 'Interest', 'Joy', 'Love',
  'Nostalgia', 'Pain', 'Pride', 'Realization', 'Relief', 'Romance', 'Sadness', 'Satisfaction', 'Shame',
  'Surprise (negative)', 'Surprise (positive)', 'Sympathy', 'Tiredness', 'Triumph',
] as const;

/** The 53 expressions of language and ner: the 48 plus five text-only ones, alphabetical. */
export const EXPRESSIONS_53 = [
  ...EXPRESSIONS_48,
  'Annoyance', 'Disapproval', 'Enthusiasm', 'Gratitude', 'Sarcasm',
].sort((a, b) => a.localeCompare(b, 'en'));

/** Sentiment classes "1" (most negative) to "9" (most positive); scores sum to 1. */
export const SENTIMENT = ['1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;

export const TOXICITY = ['toxic', 'severe_toxic', 'obscene', 'threat', 'insult', 'identity_hate'] as const;

/** The 67 vocal-burst descriptions. */
export const BURST_DESCRIPTIONS = [
  'Ah', 'Aha', 'Ahh', 'Argh', 'Aww', 'Cackle', 'Cheer', 'Chuckle', 'Cry', 'Eek', 'Eww', 'Gasp', 'Giggle', 'Groan',
  'Growl', 'Grr', 'Grunt', 'Ha', 'Hah', 'Haha', 'Hehe', 'Hiss', 'Hmm', 'Hoot', 'Howl', 'Huh', 'Hurray', 'Laugh',
  'Mhm', 'Mmm', 'Moan', 'Oh', 'Ohh', 'Ooh', 'Ooph', 'Ouch', 'Oww', 'Pant', 'Pff', 'Phew', 'Roar', 'Scream',
  'Screech', 'Shout', 'Shriek', 'Sigh', 'Snicker', 'Snort', 'Sob', 'Squeal', 'Tsk', 'Ugh', 'Uh', 'Uh-huh', 'Umm',
  'Wail', 'Whee', 'Wheep', 'Whew', 'Whimper', 'Woah', 'Wow', 'Yawn', 'Yay', 'Yelp', 'Yippee', 'Yuck',
] as const;

/** Hume's exact FACS and face-description names were never published: a small fixed stand-in. */
export const FACS = [
  'AU1 Inner Brow Raise', 'AU2 Outer Brow Raise', 'AU4 Brow Lowerer', 'AU6 Cheek Raise', 'AU9 Nose Wrinkle',
  'AU12 Lip Corner Puller', 'AU15 Lip Corner Depressor', 'AU25 Lips Part', 'AU26 Jaw Drop', 'AU43 Eye Closure',
] as const;
export const FACE_DESCRIPTIONS = [
  'Frown', 'Hand over eyes', 'Hand over mouth', 'Smile', 'Wink', 'Glare', 'Pout', 'Squint',
] as const;

/** Words of the fake transcript given to audio and video (there is no real speech recognition). */
export const TRANSCRIPT_WORDS = [
  'I', 'think', 'that', 'we', 'really', 'should', 'go', 'to', 'Paris', 'next', 'summer', 'with', 'Maria',
  'honestly', 'it', 'was', 'a', 'wonderful', 'day', 'and', 'the', 'weather', 'in', 'London', 'felt', 'warm',
] as const;
