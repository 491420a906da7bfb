// Stand-alone build of the Android library module (android/authenticator). Apps usually include the
// module into their own build instead; see README.md ("Using the module in an app").

pluginManagement {
    repositories {
        google {
            content {
                includeGroupByRegex("com\\.android.*")
                includeGroupByRegex("com\\.google.*")
                includeGroupByRegex("androidx.*")
            }
        }
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
        // The Kotlin half of rustls-platform-verifier (TLS certificate checks through Android's
        // trust manager). It is not on Maven Central: rustls publishes it as a Maven repository
        // inside their GitHub repository, as their README documents. Scoped to its one group.
        maven("https://github.com/rustls/rustls-platform-verifier/raw/maven-archive/android-release-support/maven/") {
            name = "rustlsPlatformVerifier"
            content { includeGroup("org.rustls") }
        }
    }
}

rootProject.name = "authenticator-android"
include(":authenticator")
