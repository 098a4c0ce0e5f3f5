// Parse, then prepare the process for what the parsed command declares (BLASRuntime.start), then
// run; usage errors exit 1 with one line (CommandLineEntry).
CommandLineEntry.main()
