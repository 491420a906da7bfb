// Plugin versions for the stand-alone build. An app that includes :authenticator into its own build
// supplies these plugins itself (AGP 8.5.1 or newer, Kotlin 2.x).
plugins {
    id("com.android.library") version "8.13.2" apply false
    id("org.jetbrains.kotlin.android") version "2.3.21" apply false
}
