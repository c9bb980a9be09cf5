// The one source of the targets that own eddy's precompiled headers (cmake/eddy.cmake): a
// target needs a source file; the precompiled header itself is what the other targets reuse.
