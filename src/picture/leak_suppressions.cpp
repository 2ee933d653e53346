// LeakSanitizer's suppressions for the programs that draw the service map (Graphviz); nothing
// outside a sanitizer build.
#if defined(__SANITIZE_ADDRESS__)
#define SOCKSNAP_LEAKS_CHECKED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SOCKSNAP_LEAKS_CHECKED 1
#endif
#endif
#ifdef SOCKSNAP_LEAKS_CHECKED
// In a sanitizer build (scripts/test.sh), LeakSanitizer's suppressions for every program that
// draws or loads the picture plugin, which link this file (an object library: LeakSanitizer
// reads the suppressions of the program, not of a library it loads): what Graphviz 2.43's dot
// layout never frees (the auxiliary and virtual edges of its cluster ranking, allocated through
// libgvc's gmalloc: the sanitizer's fast unwinder sees no further up than that) and what fontconfig
// keeps for the life of the process. They name only those libraries' frames: a leak of socksnap's
// own is still reported.
extern "C" const char* __lsan_default_suppressions() {  // NOLINT(bugprone-reserved-identifier)
  return "leak:libgvc.so\nleak:libfontconfig.so\n";
}
#endif
