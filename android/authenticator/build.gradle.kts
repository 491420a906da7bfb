// :authenticator, the Android library (AAR) over the Rust core:
//   - libauthenticator_core.so for arm64-v8a, armeabi-v7a and x86_64, built by cargo-ndk
//     (task buildRustJniLibs), ELF segments aligned for 16 KB pages;
//   - the Android flavour of the uniffi Kotlin bindings, package org.authenticator.core, generated
//     from an unstripped host build of the same sources (task generateUniffiKotlin);
//   - org.authenticator.core.android: KeystoreDataKey (data key wrapped by Android Keystore) and
//     RustlsPlatformVerifier (hands the app context to the core's TLS verifier).
// Both tasks feed the variants through AGP's Variant API, so every task that reads their output
// (compile, merge, lint, sources jar) depends on them. See ../README.md.

import groovy.json.JsonSlurper
import java.io.ByteArrayOutputStream
import java.io.File
import javax.inject.Inject
import org.gradle.process.ExecOperations
import org.jetbrains.kotlin.gradle.dsl.JvmTarget

plugins {
    id("com.android.library")
    id("org.jetbrains.kotlin.android")
    `maven-publish`
}

// ---------------------------------------------------------------------------------------------
// Task types (kept free of Project access at execution time, so they are configuration-cache safe)
// ---------------------------------------------------------------------------------------------

/** Builds the core for Android ABIs with cargo-ndk into an AGP jniLibs layout (`<abi>/lib*.so`). */
abstract class CargoNdkBuild : DefaultTask() {
    @get:Inject abstract val execOperations: ExecOperations

    @get:Internal abstract val workspace: DirectoryProperty
    @get:InputFiles @get:PathSensitive(PathSensitivity.RELATIVE)
    abstract val rustSources: ConfigurableFileCollection
    @get:Input abstract val cargo: Property<String>
    @get:Input abstract val cargoPackage: Property<String>
    @get:Input abstract val cargoProfile: Property<String>
    @get:Input abstract val abis: ListProperty<String>
    @get:Input abstract val apiLevel: Property<Int>
    @get:Input abstract val ndkVersion: Property<String>
    @get:Internal abstract val ndkDirectory: DirectoryProperty
    @get:OutputDirectory abstract val outputDir: DirectoryProperty

    @TaskAction
    fun build() {
        // Cargo takes extra flags from exactly one source, and RUSTFLAGS beats the per-target
        // variables below: with it set, the 16 KB alignment flag would be silently dropped.
        for (name in listOf("RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS")) {
            if (System.getenv(name) != null) {
                throw GradleException(
                    "$name is set, so cargo would ignore the per-target flags that align the Android " +
                        "libraries to 16 KB pages. Unset $name for this build."
                )
            }
        }
        val out = outputDir.get().asFile
        out.deleteRecursively()
        out.mkdirs()
        execOperations.exec {
            workingDir = workspace.get().asFile
            executable = cargo.get()
            args("ndk")
            abis.get().forEach { args("-t", it) }
            args("--platform", apiLevel.get().toString(), "-o", out.absolutePath)
            args("build", "--locked", "--profile", cargoProfile.get(), "-p", cargoPackage.get())
            environment("ANDROID_NDK_HOME", ndkDirectory.get().asFile.absolutePath)
            // 16 KB page alignment of the ELF LOAD segments, whatever the NDK's default (r28+
            // already does this; r27 does not). Google requires it for 64-bit ABIs; 32-bit devices
            // always use 4 KB pages. cargo-ndk links with the NDK's clang, hence -Wl.
            val pageFlags = "-C link-arg=-Wl,-z,max-page-size=16384"
            // Packed relocations (Android's APS2 format, read by the loader since API 23): the
            // relocation table of a library full of vtables shrinks by ~300 KB, which keeps it
            // within its 5 MB budget (bindings/generate.sh does the same with RELR on Linux).
            // Identical code folding (lld): -49 KB; unwind tables only where a panic can unwind
            // (-149 KB, with the C flags below): see docs/performance.md ("The shipped library") and
            // bindings/generate.sh, which builds the measured library with the same flags.
            // The legacy-import AES (RustCrypto `aes`, CBC only) in its compact software form.
            val packFlags =
                "-C link-arg=-Wl,--pack-dyn-relocs=android -C link-arg=-Wl,--icf=all -C force-unwind-tables=no" +
                    " --cfg aes_force_soft --cfg aes_compact"
            environment("CFLAGS", "-fno-asynchronous-unwind-tables -fno-unwind-tables")
            environment("CARGO_TARGET_AARCH64_LINUX_ANDROID_RUSTFLAGS", "$pageFlags $packFlags")
            environment("CARGO_TARGET_X86_64_LINUX_ANDROID_RUSTFLAGS", "$pageFlags $packFlags")
            environment("CARGO_TARGET_ARMV7_LINUX_ANDROIDEABI_RUSTFLAGS", packFlags)
            environment("CARGO_TARGET_I686_LINUX_ANDROID_RUSTFLAGS", packFlags)
        }
        for (abi in abis.get()) {
            val so = out.resolve("$abi/libauthenticator_core.so")
            if (!so.isFile) throw GradleException("cargo-ndk did not produce $so")
        }
    }
}

/**
 * Generates the Android flavour of the Kotlin bindings. uniffi reads the interface from the
 * metadata inside the library, so it needs an unstripped build: a host build of the same sources
 * in the dev profile (the Android .so files are stripped when packaged). Output is build output,
 * never committed.
 */
abstract class UniffiKotlinBindings : DefaultTask() {
    @get:Inject abstract val execOperations: ExecOperations

    @get:Internal abstract val workspace: DirectoryProperty
    @get:InputFiles @get:PathSensitive(PathSensitivity.RELATIVE)
    abstract val rustSources: ConfigurableFileCollection
    @get:InputFile @get:PathSensitive(PathSensitivity.NONE)
    abstract val config: RegularFileProperty
    @get:Input abstract val cargo: Property<String>
    @get:Input abstract val cargoPackage: Property<String>
    @get:Input abstract val libraryName: Property<String>
    @get:OutputDirectory abstract val outputDir: DirectoryProperty

    @TaskAction
    fun generate() {
        val root = workspace.get().asFile
        val messages = ByteArrayOutputStream()
        execOperations.exec {
            workingDir = root
            commandLine(
                cargo.get(), "build", "--locked", "-p", cargoPackage.get(),
                "--message-format=json-render-diagnostics",
            )
            standardOutput = messages
        }
        val library = hostLibrary(messages.toString(Charsets.UTF_8.name()), libraryName.get())

        val out = outputDir.get().asFile
        out.deleteRecursively()
        out.mkdirs()
        execOperations.exec {
            workingDir = root
            commandLine(
                cargo.get(), "run", "--locked", "--quiet", "-p", "uniffi-bindgen", "--",
                "generate", library.absolutePath,
                "--language", "kotlin",
                "--no-format",
                "--config", config.get().asFile.absolutePath,
                "--out-dir", out.absolutePath,
            )
        }
        val expected = out.resolve("org/authenticator/core/${libraryName.get()}.kt")
        if (!expected.isFile) {
            throw GradleException(
                "uniffi-bindgen did not write $expected: check package_name in ${config.get().asFile}"
            )
        }
    }

    /** The cdylib of [name] among cargo's JSON artifact messages (.so, .dylib or .dll by host). */
    private fun hostLibrary(cargoJson: String, name: String): File {
        val suffixes = listOf(".so", ".dylib", ".dll")
        for (line in cargoJson.lineSequence().filter { it.startsWith("{") }) {
            val message = JsonSlurper().parseText(line) as? Map<*, *> ?: continue
            if (message["reason"] != "compiler-artifact") continue
            val target = message["target"] as? Map<*, *> ?: continue
            if (target["name"] != name) continue
            val crateTypes = target["crate_types"] as? List<*> ?: continue
            if ("cdylib" !in crateTypes) continue
            val files = message["filenames"] as? List<*> ?: continue
            files.filterIsInstance<String>()
                .firstOrNull { file -> suffixes.any { file.endsWith(it) } }
                ?.let { return File(it) }
        }
        throw GradleException(
            "cargo built no cdylib named $name: authenticator-ffi needs crate-type \"cdylib\""
        )
    }
}

/** The version of one crate in Cargo.lock, read the way rustls-platform-verifier's README does. */
abstract class CargoLockVersion : ValueSource<String, CargoLockVersion.Params> {
    interface Params : ValueSourceParameters {
        val lockFile: RegularFileProperty
        val crate: Property<String>
    }

    override fun obtain(): String {
        val lock = parameters.lockFile.get().asFile
        val crate = parameters.crate.get()
        val lines = lock.readLines()
        val at = lines.indexOfFirst { it.trim() == "name = \"$crate\"" }
        val version = if (at < 0) {
            null
        } else {
            lines.drop(at + 1)
                .firstOrNull { it.trim().startsWith("version = ") }
                ?.substringAfter('"')
                ?.substringBefore('"')
                ?.takeIf { it.isNotEmpty() }
        }
        return version ?: throw GradleException("$crate is not in $lock")
    }
}

// ---------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------

/** Root of the Rust workspace (Cargo.toml, Cargo.lock), by default two levels up: the repository. */
val rustWorkspace: File =
    file(providers.gradleProperty("authenticator.rustWorkspace").getOrElse("../.."))
val cargoExecutable: String = providers.gradleProperty("authenticator.cargo").getOrElse("cargo")
/** The workspace's `mobile` profile: release, optimised for size, panic = unwind (uniffi needs it). */
val cargoProfileName: String =
    providers.gradleProperty("authenticator.cargoProfile").getOrElse("mobile")
val androidAbis = listOf("arm64-v8a", "armeabi-v7a", "x86_64")

/**
 * API 24 (Android 7.0): rustls-platform-verifier's Android component checks revocation only from
 * API 24 (below, it runs without those checks); the Keystore helper needs 23 for AES-GCM Keystore
 * keys and 24 for setInvalidatedByBiometricEnrollment; native libraries load straight from the APK
 * from 23. The .so files are linked against the same API level (cargo-ndk --platform).
 */
val minimumSdk = 24

/** What rustls-platform-verifier's Kotlin component must match: the marker crate in Cargo.lock. */
val rustlsPlatformVerifierVersion: Provider<String> =
    providers.of(CargoLockVersion::class.java) {
        parameters.lockFile.set(rustWorkspace.resolve("Cargo.lock"))
        parameters.crate.set("rustls-platform-verifier-android")
    }

/** Inputs of both Rust tasks: the workspace crates (crates/*) and the binding generator. */
val rustSourceFiles = fileTree(rustWorkspace) {
    include(
        "Cargo.toml", "Cargo.lock", ".cargo/config.toml", ".cargo/config",
        "crates/**", "bindings/uniffi-bindgen/**",
    )
    exclude("**/target/**")
}

// ---------------------------------------------------------------------------------------------
// Android
// ---------------------------------------------------------------------------------------------

android {
    namespace = "org.authenticator.core"
    compileSdk = 36
    // r27+ is required; r28+ also aligns to 16 KB by default. AGP strips the .so files with it.
    ndkVersion = providers.gradleProperty("authenticator.ndkVersion").getOrElse("28.2.13676358")

    defaultConfig {
        minSdk = minimumSdk
        consumerProguardFiles("consumer-rules.pro")
        // src/androidTest: the real Keystore, the packaged .so and JNA's AAR on a device
        // (./gradlew :authenticator:connectedAndroidTest); android/run-jvm-tests.sh compiles them.
        testInstrumentationRunner = "androidx.test.runner.AndroidJUnitRunner"
    }

    buildTypes {
        release {
            // A library is shrunk by the app that uses it, with consumer-rules.pro.
            isMinifyEnabled = false
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    packaging {
        jniLibs {
            // Uncompressed, 16 KB zip-aligned native libraries (AGP 8.5.1+), loaded straight from
            // the APK. This only governs APKs built here (instrumented tests): each app sets its own.
            useLegacyPackaging = false
        }
    }

    publishing {
        singleVariant("release") {
            withSourcesJar()
        }
    }
}

kotlin {
    compilerOptions {
        jvmTarget.set(JvmTarget.JVM_17)
    }
}

val buildRustJniLibs = tasks.register<CargoNdkBuild>("buildRustJniLibs") {
    group = "build"
    description = "Builds libauthenticator_core.so for ${androidAbis.joinToString()} with cargo-ndk."
    workspace.set(rustWorkspace)
    rustSources.from(rustSourceFiles)
    cargo.set(cargoExecutable)
    cargoPackage.set("authenticator-ffi")
    cargoProfile.set(cargoProfileName)
    abis.set(androidAbis)
    apiLevel.set(minimumSdk)
    ndkVersion.set(android.ndkVersion)
    ndkDirectory.set(androidComponents.sdkComponents.ndkDirectory)
    // AGP moves this under build/generated/ when it wires the task into the variants below.
    outputDir.convention(layout.buildDirectory.dir("rust/jniLibs"))
}

val generateUniffiKotlin = tasks.register<UniffiKotlinBindings>("generateUniffiKotlin") {
    group = "build"
    description = "Generates the Android flavour of the uniffi Kotlin bindings (android = true)."
    workspace.set(rustWorkspace)
    rustSources.from(rustSourceFiles)
    config.set(file("../uniffi-android.toml"))
    cargo.set(cargoExecutable)
    cargoPackage.set("authenticator-ffi")
    libraryName.set("authenticator_core")
    // AGP moves this under build/generated/ when it wires the task into the variants below.
    outputDir.convention(layout.buildDirectory.dir("generated/source/uniffi/kotlin"))
}

androidComponents {
    onVariants { variant ->
        variant.sources.jniLibs?.addGeneratedSourceDirectory(buildRustJniLibs, CargoNdkBuild::outputDir)
        // Registered as Java sources: the Kotlin Android plugin compiles .kt files found there.
        variant.sources.java?.addGeneratedSourceDirectory(
            generateUniffiKotlin,
            UniffiKotlinBindings::outputDir,
        )
    }
}

dependencies {
    // The generated bindings call the .so through JNA; the AAR carries libjnidispatch.so (16 KB
    // aligned for every ABI in 5.18.1). `api`: JNA types appear in the generated public classes.
    api("net.java.dev.jna:jna:5.18.1@aar")
    // The generated code's async support (suspend functions over the core's futures), and
    // codeUpdates(), whose Flow and CoroutineDispatcher are in the public API (hence `api`); the
    // same version as bindings/kotlin.
    api("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.11.0")
    // @RequiresApi in the generated Android cleaner.
    implementation("androidx.annotation:annotation:1.9.1")
    // rustls-platform-verifier's Kotlin component, called from Rust over JNI. Its version must be
    // the one the Rust crate was built against, so it is read from Cargo.lock and written into the
    // AAR's metadata: apps need the repository, not the version-matching snippet.
    implementation("org.rustls:rustls-platform-verifier:${rustlsPlatformVerifierVersion.get()}")

    androidTestImplementation("androidx.test:runner:1.7.0")
    androidTestImplementation("junit:junit:4.13.2")
}

publishing {
    publications {
        register<MavenPublication>("release") {
            groupId = "org.authenticator"
            artifactId = "authenticator-core-android"
            version = providers.gradleProperty("authenticator.version").getOrElse("0.1.0")
            afterEvaluate {
                from(components["release"])
            }
        }
    }
}
