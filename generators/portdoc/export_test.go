package portdoc

// CleanSVG is cleanSVG, for the tests of what the page embeds.
var CleanSVG = cleanSVG
